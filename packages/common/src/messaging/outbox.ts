/**
 * Transactional outbox. A service never publishes from a request or event handler: it calls
 * `publishEvent(tx, ...)` inside the transaction that changes its state, and the relay publishes
 * the row after commit. A crash at any point loses nothing: an unsent row is sent by the next
 * relay, and a row sent twice is dropped by the broker (msgID) or the consumers' inbox.
 *
 * The relay
 * - runs on one replica per service at a time (a session advisory lock; a standby takes over when
 *   the holder's connection dies),
 * - is woken right after each commit that wrote outbox rows (see "Commit signals" below), polling
 *   only as a fallback,
 * - publishes rows of one entity strictly one after another (a row is published only after the
 *   previous row of that entity was accepted), rows of different entities concurrently,
 * - marks rows sent only after the transport accepted them, and backs off while it cannot.
 */
import pg from 'pg';
import { is, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Logger } from 'pino';
import { makeEvent, type EventData, type EventEnvelope, type EventType } from '../events/contract.ts';
import type { Executor, ServiceDatabase } from '../db/database.ts';
import type { Transport } from './transport.ts';

const CHANNEL = 'ticketing_outbox';
/**
 * Under load the relay reads the outbox at most this often, and marks rows sent at most this often
 * (sooner once a batch is waiting), so that each query carries a batch rather than a row or two.
 * An idle relay reads at once when woken.
 */
const MIN_FETCH_INTERVAL_MS = 5;
const FLUSH_INTERVAL_MS = 20;

/**
 * Records `type` with `data` in the outbox of the transaction's database. The event is published
 * if and only if the transaction commits. `entityId` orders events of one entity (default: data.id).
 */
export async function publishEvent<T extends EventType>(
  tx: Executor,
  type: T,
  data: EventData<T>,
  entityId: string = entityOf(data),
): Promise<EventEnvelope<T>> {
  const event = makeEvent(type, data);
  const row = sql`insert into outbox (event_id, type, entity_id, envelope)
    values (${event.id}, ${type}, ${entityId}, ${JSON.stringify(event)}::jsonb)`;
  if (!is(tx, PgTransaction)) {
    // A statement of its own commits at once: the NOTIFY goes with it.
    await tx.execute(sql`with queued as (${row}) select pg_notify(${CHANNEL}, '')`);
    return event;
  }
  const { rows } = await tx.execute<{ backend: string }>(
    sql`${row} returning current_database() || ':' || pg_backend_pid() as backend`,
  );
  // No relay of this process will see this connection go back to its pool: NOTIFY at commit.
  if (!expectCommit(rows[0]!.backend)) await tx.execute(sql`select pg_notify(${CHANNEL}, '')`);
  return event;
}

function entityOf(data: object): string {
  const record = data as { id?: unknown; orderId?: unknown };
  const id = record.id ?? record.orderId;
  if (typeof id !== 'string')
    throw new Error('publishEvent needs an entityId for events without id or orderId');
  return id;
}

/*
 * Commit signals. A NOTIFY issued inside the producer's transaction would wake the relay exactly
 * at commit, but Postgres serialises the commits of notifying transactions: it takes a
 * cluster-wide lock before the commit record and keeps it until the record is flushed, so those
 * commits cannot share a WAL flush, and with a few dozen concurrent producers the outbox, not the
 * disk, sets the pace. It also costs every event a signal to the listening backend and a message
 * to the relay.
 *
 * So the signal is sent after commit instead. A relay watches its database's pool: a transaction
 * that wrote outbox rows on a connection of that pool is expected to end when the pool gets the
 * connection back ('release', which comes after COMMIT or ROLLBACK has returned). Then the relay
 * is woken in-process if it leads, or else one NOTIFY, outside any write transaction (so with no
 * flush to wait for), wakes the leader elsewhere; commits that end while that NOTIFY is on its way
 * are covered by one more. A transaction on a connection no relay of this process watches (a
 * script, a test without a relay) notifies inside the transaction as before. A wake-up lost to a
 * crash between the commit and the signal costs one poll interval, not an event.
 */

/** A pooled connection; `processID` is the backend's pid (node-postgres sets it, untyped). */
type PooledClient = pg.PoolClient & { processID?: unknown };

/** Backends, as `database:pid`, checked out of a watched pool, and the watch of that pool. */
const checkedOut = new Map<string, CommitWatch>();
const watches = new Map<pg.Pool, CommitWatch>();

/**
 * Called with the backend of a transaction that wrote an outbox row. True if a watched pool will
 * signal the end of that transaction; false if the caller must NOTIFY itself.
 */
function expectCommit(backend: string): boolean {
  const watch = checkedOut.get(backend);
  if (!watch) return false;
  watch.expect(backend);
  return true;
}

class CommitWatch {
  readonly relays = new Set<OutboxRelay>();
  /** Backends whose open transaction wrote outbox rows. */
  private readonly pending = new Set<string>();
  private readonly backends = new Set<string>();
  private notifying = false;
  private notifyAgain = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly databaseName: string,
    private readonly log: Logger,
  ) {
    pool.on('acquire', this.onAcquire);
    pool.on('release', this.onRelease);
  }

  expect(backend: string): void {
    this.pending.add(backend);
  }

  dispose(): void {
    this.pool.off('acquire', this.onAcquire);
    this.pool.off('release', this.onRelease);
    for (const backend of this.backends) if (checkedOut.get(backend) === this) checkedOut.delete(backend);
    this.backends.clear();
    this.pending.clear();
  }

  private backendOf(client: PooledClient): string | undefined {
    return typeof client.processID === 'number' ? `${this.databaseName}:${client.processID}` : undefined;
  }

  private readonly onAcquire = (client: PooledClient) => {
    const backend = this.backendOf(client);
    if (!backend) return;
    checkedOut.set(backend, this);
    this.backends.add(backend);
  };

  private readonly onRelease = (_error: Error | undefined, client: PooledClient) => {
    const backend = this.backendOf(client);
    if (!backend) return;
    if (checkedOut.get(backend) === this) checkedOut.delete(backend);
    this.backends.delete(backend);
    if (this.pending.delete(backend)) this.committed();
  };

  private committed(): void {
    for (const relay of this.relays) if (relay.wakeIfLeader()) return;
    this.notifyLeader();
  }

  /** One NOTIFY at a time; commits that end meanwhile get one more after it. */
  private notifyLeader(): void {
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    this.pool
      .query('select pg_notify($1, $2)', [CHANNEL, ''])
      .catch((error: unknown) =>
        this.log.warn({ err: error }, 'could not notify the outbox relay; it will poll'),
      )
      .finally(() => {
        this.notifying = false;
        if (this.notifyAgain) {
          this.notifyAgain = false;
          this.notifyLeader();
        }
      });
  }
}

interface OutboxRow {
  seq: number;
  event_id: string;
  type: string;
  entity_id: string;
  envelope: unknown;
}

export interface OutboxRelayOptions {
  database: ServiceDatabase;
  transport: Transport;
  logger: Logger;
  batchSize?: number;
  maxInFlight?: number;
  pollIntervalMs?: number;
  /** Sent rows are deleted after this long (kept meanwhile for inspection). */
  retentionMs?: number;
}

export class OutboxRelay {
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly pollIntervalMs: number;
  private readonly retentionMs: number;
  private readonly log: Logger;
  private readonly inFlight = new Set<number>();
  private readonly chains = new Map<string, Promise<boolean>>();
  private readonly failedEntities = new Set<string>();
  private readonly sent: number[] = [];
  private lockClient: pg.Client | undefined;
  private leader = false;
  private stopped = false;
  private running = false;
  private wakeRequested = false;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private pausedUntil = 0;
  private lastFetchAt = 0;
  private timers: NodeJS.Timeout[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 256;
    this.maxInFlight = options.maxInFlight ?? 2048;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.log = options.logger.child({ component: 'outbox-relay' });
  }

  start(): void {
    this.watchCommits();
    void this.acquireLeadership();
    this.timers.push(setInterval(() => this.wake(), this.pollIntervalMs));
    this.timers.push(setInterval(() => void this.purgeSent(), 60_000));
  }

  /** Wakes the relay if it is the leader; false if it is not. */
  wakeIfLeader(): boolean {
    if (!this.leader || this.stopped) return false;
    this.wake();
    return true;
  }

  /** Asks the relay to look for unsent rows now. */
  wake(): void {
    if (this.stopped || !this.leader) return;
    this.wakeRequested = true;
    if (!this.running) void this.run();
  }

  /** Number of rows not yet marked sent (for metrics, readiness and tests). */
  async backlog(): Promise<number> {
    const { rows } = await this.options.database.pool.query<{ n: number }>(
      'select count(*)::int as n from outbox where sent_at is null',
    );
    return rows[0]!.n;
  }

  /** Resolves once every row committed so far has been published and marked sent. */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.backlog()) > 0) {
      if (Date.now() > deadline) throw new Error('outbox relay did not drain in time');
      this.wake();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Stops fetching, lets in-flight publishes finish (bounded), records them, releases the lock. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    this.unwatchCommits();
    for (const timer of this.timers) clearInterval(timer);
    const idle = new Promise<void>((resolve) => {
      if (this.inFlight.size === 0 && !this.running) resolve();
      else this.idleWaiters.push(resolve);
    });
    await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    await this.flushSent().catch(() => {});
    this.leader = false;
    await this.lockClient?.end().catch(() => {});
    this.lockClient = undefined;
  }

  private watchCommits(): void {
    const { pool, url } = this.options.database;
    let watch = watches.get(pool);
    if (!watch) {
      const databaseName = decodeURIComponent(new URL(url).pathname.slice(1));
      watch = new CommitWatch(pool, databaseName, this.log);
      watches.set(pool, watch);
    }
    watch.relays.add(this);
  }

  private unwatchCommits(): void {
    const { pool } = this.options.database;
    const watch = watches.get(pool);
    if (!watch?.relays.delete(this) || watch.relays.size > 0) return;
    watch.dispose();
    watches.delete(pool);
  }

  private async acquireLeadership(): Promise<void> {
    while (!this.stopped && !this.leader) {
      const client = new pg.Client({ connectionString: this.options.database.url });
      client.on('error', () => {}); // surfaced through 'end'
      try {
        await client.connect();
        const { rows } = await client.query<{ locked: boolean }>(
          'select pg_try_advisory_lock(hashtext($1)) as locked',
          ['ticketing:outbox-relay'],
        );
        if (rows[0]?.locked && !this.stopped) {
          await client.query(`listen ${CHANNEL}`);
          client.on('notification', () => this.wake());
          client.on('end', () => this.loseLeadership(client));
          this.lockClient = client;
          this.leader = true;
          this.log.debug('outbox relay is the leader');
          this.wake();
          return;
        }
        await client.end();
      } catch (error) {
        this.log.warn({ err: error }, 'outbox relay cannot reach its database; retrying');
        await client.end().catch(() => {});
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }

  private loseLeadership(client: pg.Client): void {
    if (this.lockClient !== client) return;
    this.lockClient = undefined;
    this.leader = false;
    if (!this.stopped) {
      this.log.warn('outbox relay lost its database connection; re-acquiring leadership');
      void this.acquireLeadership();
    }
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.wakeRequested && this.leader && !this.stopped) {
        this.wakeRequested = false;
        const waitMs = this.pausedUntil - Date.now();
        if (waitMs > 0) {
          setTimeout(() => this.wake(), waitMs);
          break;
        }
        const room = this.maxInFlight - this.inFlight.size;
        if (room <= 0) break; // a finishing chain wakes us
        // With rows in flight, wait for a batch's worth of room (rows marked sent wake us): topping
        // up one row at a time would read the outbox once per published row.
        if (this.inFlight.size > 0 && room < Math.min(this.batchSize, this.maxInFlight)) break;
        const sinceLastFetch = Date.now() - this.lastFetchAt;
        if (sinceLastFetch < MIN_FETCH_INTERVAL_MS) {
          await new Promise((resolve) => setTimeout(resolve, MIN_FETCH_INTERVAL_MS - sinceLastFetch));
          if (!this.leader || this.stopped) break;
          if (this.pausedUntil > Date.now()) {
            this.wakeRequested = true; // a publish failed meanwhile: wait out its pause first
            continue;
          }
        }
        // Entities whose last publish failed are blocked until now: this fetch returns their rows
        // again, in order, from the one that failed.
        for (const entity of this.failedEntities) this.chains.delete(entity);
        this.failedEntities.clear();
        this.lastFetchAt = Date.now();
        const rows = await this.fetch(Math.min(room, this.batchSize));
        for (const row of rows) this.dispatch(row);
        if (rows.length === Math.min(room, this.batchSize)) this.wakeRequested = true;
      }
    } catch (error) {
      this.log.warn({ err: error }, 'outbox relay could not read the outbox; will retry');
      this.pause();
    } finally {
      this.running = false;
      this.notifyIdle();
    }
  }

  private async fetch(limit: number): Promise<OutboxRow[]> {
    const { rows } = await this.options.database.pool.query<OutboxRow>(
      `select seq, event_id, type, entity_id, envelope from outbox
        where sent_at is null and seq <> all($1::bigint[])
        order by seq limit $2`,
      [[...this.inFlight], limit],
    );
    return rows;
  }

  private dispatch(row: OutboxRow): void {
    this.inFlight.add(row.seq);
    const previous = this.chains.get(row.entity_id) ?? Promise.resolve(true);
    const chain = previous.then(async (previousSent) => {
      // Never overtake an earlier event of the same entity that failed: it is retried first.
      if (!previousSent || this.stopped) return false;
      try {
        await this.options.transport.publish(row.type, row.event_id, row.envelope);
        this.failures = 0;
        this.sent.push(row.seq);
        this.scheduleFlush(this.flushDelay());
        return true;
      } catch (error) {
        this.log.warn({ err: error, eventId: row.event_id, type: row.type }, 'publish failed; will retry');
        this.pause();
        return false;
      }
    });
    this.chains.set(row.entity_id, chain);
    void chain.then((ok) => {
      if (!ok) {
        // Keep the failed chain until the next fetch: a row of this entity that a fetch already
        // under way returns must queue behind it (and fail too), not be published ahead of it.
        this.failedEntities.add(row.entity_id);
        this.inFlight.delete(row.seq); // fetched again, in order, after the pause
        this.notifyIdle();
      } else if (this.chains.get(row.entity_id) === chain) {
        this.chains.delete(row.entity_id);
      }
    });
  }

  private pause(): void {
    this.failures += 1;
    const delay = Math.min(2_000, 100 * 2 ** Math.min(this.failures, 5));
    this.pausedUntil = Date.now() + delay;
    setTimeout(() => this.wake(), delay);
  }

  private flushDelay(): number {
    return this.sent.length >= this.batchSize ? 0 : FLUSH_INTERVAL_MS;
  }

  /** Marks accepted rows sent in batches; while the database is unreachable, retries every 500 ms. */
  private scheduleFlush(delayMs: number): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) =>
      delayMs > 0 ? setTimeout(resolve, delayMs) : setImmediate(resolve),
    )
      .then(() => this.flushSent())
      .then(
        () => 0,
        (error: unknown) => {
          this.log.warn({ err: error }, 'could not mark outbox rows sent; will retry');
          return 500;
        },
      )
      .then((retryInMs) => {
        this.flushing = undefined;
        if (this.sent.length > 0) this.scheduleFlush(retryInMs || this.flushDelay());
      });
  }

  private async flushSent(): Promise<void> {
    if (this.sent.length === 0) return;
    const batch = this.sent.splice(0, this.sent.length);
    try {
      await this.options.database.pool.query(
        'update outbox set sent_at = now() where seq = any($1::bigint[])',
        [batch],
      );
    } catch (error) {
      this.sent.unshift(...batch);
      throw error;
    }
    for (const seq of batch) this.inFlight.delete(seq);
    this.wake();
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.inFlight.size > 0 || this.running) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async purgeSent(): Promise<void> {
    if (!this.leader) return;
    await this.options.database.pool
      .query(`delete from outbox where sent_at < now() - $1::int * interval '1 millisecond'`, [
        this.retentionMs,
      ])
      .catch(() => {});
  }
}
