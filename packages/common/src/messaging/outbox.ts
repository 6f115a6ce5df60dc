/**
 * Transactional outbox. A service never publishes from a request or event handler: it calls
 * `publishEvent(tx, ...)` inside the transaction that changes its state (or, for one row and one
 * event, a statement from `prepareWriteAndPublish`: the change and the outbox row in one
 * statement), and the relay publishes the row after commit. A crash at any point loses nothing:
 * an unsent row is sent by the next relay, and a row sent twice is dropped by the broker (msgID)
 * or the consumers' inbox.
 *
 * The relay
 * - runs on one replica per service at a time (a session advisory lock; a standby takes over when
 *   the holder's connection dies),
 * - is woken right after each commit that queued events (db/unit-of-work.ts), polling only as a
 *   fallback,
 * - tells every replica of the service which entities the rows it reads are about, so that they
 *   drop what they cached of them (db/change-feed.ts),
 * - publishes rows of one entity strictly one after another (a row is published only after the
 *   previous row of that entity was accepted), rows of different entities concurrently,
 * - marks rows sent only after the transport accepted them, and backs off while it cannot.
 */
import pg from 'pg';
import { fillPlaceholders, is, sql, type SQLWrapper } from 'drizzle-orm';
import { PgDialect, PgTransaction } from 'drizzle-orm/pg-core';
import type { Logger } from 'pino';
import { makeEvent, type EventData, type EventEnvelope, type EventType } from '../events/contract.ts';
import type { Executor, ServiceDatabase } from '../db/database.ts';
import type { Transport } from './transport.ts';
import { OUTBOX_CHANNEL, queueInUnit, signalOf } from '../db/unit-of-work.ts';
import { announceChanges } from '../db/change-feed.ts';

/**
 * Under load the relay reads the outbox at most this often, and marks rows sent at most this often
 * (sooner once a batch is waiting), so that each query carries a batch rather than a row or two.
 * An idle relay reads at once when woken.
 */
const MIN_FETCH_INTERVAL_MS = 5;
const FLUSH_INTERVAL_MS = 20;

/** An outbox row: the columns, and the values in that order (values, or placeholders for them). */
const OUTBOX_COLUMNS = sql`outbox (event_id, type, entity_id, envelope)`;
const outboxRow = (eventId: unknown, type: unknown, entityId: unknown, envelope: unknown) =>
  sql`${eventId}, ${type}, ${entityId}, ${envelope}::jsonb`;
const outboxValues = (event: EventEnvelope, entityId: string) =>
  outboxRow(event.id, event.type, entityId, JSON.stringify(event));

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
  const row = sql`insert into ${OUTBOX_COLUMNS} values (${outboxValues(event, entityId)})`;
  if (is(tx, PgTransaction)) {
    // A unit of work signals its commit; a transaction nobody owns NOTIFYs at commit.
    if (queueInUnit(tx, entityId)) await tx.execute(row);
    else await tx.execute(sql`with queued as (${row}) select pg_notify(${OUTBOX_CHANNEL}, '')`);
    return event;
  }
  // A statement of its own commits at once: its handle's signal is told, or the NOTIFY goes with it.
  const signal = signalOf(tx);
  if (signal) {
    await tx.execute(row);
    signal.committed([entityId]);
  } else {
    await tx.execute(sql`with queued as (${row}) select pg_notify(${OUTBOX_CHANNEL}, '')`);
  }
  return event;
}

/**
 * A statement that runs `write`, a data-modifying statement with `RETURNING` that changes one
 * row, and queues an event of `type` in the same statement, which commits on its own: the event
 * is queued if and only if `write` returned a row. That is one round trip where `BEGIN`, the
 * write, the outbox insert and `COMMIT` are four; for a hot path whose event data is known before
 * the write (the rush's order creation).
 *
 * Prepared: `write` is built once, with `sql.placeholder(name)` for each of its values, and the
 * whole statement is rendered here, once. Each call fills in the values and runs it as the named
 * statement `name`, which Postgres parses once per connection and whose plan it caches. (Built by
 * drizzle and parsed by Postgres on every call, this was the busiest work of the orders replica in
 * a rush after the HTTP requests themselves.)
 *
 * The returned function takes the values of the placeholders and the event's data, and answers
 * the rows `write` returned, as Postgres names their columns, in node-postgres's types. It runs
 * on the pool, never inside a transaction: it commits by itself.
 */
export function prepareWriteAndPublish<
  T extends EventType,
  Values extends Record<string, unknown>,
  Row extends pg.QueryResultRow,
>(name: string, type: T, write: SQLWrapper): WriteAndPublish<T, Values, Row> {
  const queued = outboxRow(
    sql.placeholder(EVENT_ID),
    type,
    sql.placeholder(ENTITY_ID),
    sql.placeholder(ENVELOPE),
  );
  const statement = dialect.sqlToQuery(sql`with written as (${write.getSQL()}),
      queued as (insert into ${OUTBOX_COLUMNS} select ${queued} where exists (select 1 from written))
      select * from written`);
  // A name is one statement on every connection: Postgres refuses a second text under the same
  // name only on the connections that ran the first, which would fail now and then, not at once.
  const known = preparedTexts.get(name);
  if (known !== undefined && known !== statement.sql)
    throw new Error(`prepared statement ${name} is already another statement`);
  preparedTexts.set(name, statement.sql);
  return async (database, values, data, entityId = entityOf(data)) => {
    const event = makeEvent(type, data);
    const query = {
      name,
      text: statement.sql,
      values: fillPlaceholders(statement.params, {
        ...values,
        [EVENT_ID]: event.id,
        [ENTITY_ID]: entityId,
        [ENVELOPE]: JSON.stringify(event),
      }),
    };
    let rows: Row[];
    try {
      rows = (await database.pool.query<Row>(query)).rows;
    } catch (error) {
      // It may have committed all the same (a connection lost on the way back): a wake-up that
      // finds nothing costs nothing.
      announceCommit(database, entityId);
      throw error;
    }
    if (rows.length > 0) announceCommit(database, entityId);
    return rows;
  };
}

export type WriteAndPublish<T extends EventType, Values, Row> = (
  database: StatementTarget,
  values: Values,
  data: EventData<T>,
  entityId?: string,
) => Promise<Row[]>;

const dialect = new PgDialect();
const preparedTexts = new Map<string, string>();
// The outbox row's own placeholders, named so that no write's could be taken for them.
const EVENT_ID = 'outbox.event_id';
const ENTITY_ID = 'outbox.entity_id';
const ENVELOPE = 'outbox.envelope';

/** Where a prepared statement runs: a service's database, or a bare pool (a script, a test). */
export type StatementTarget = Pick<ServiceDatabase, 'pool'> & Partial<Pick<ServiceDatabase, 'commits'>>;

/** After a statement that wrote an outbox row committed: the relay and the caches, as after a unit of work. */
function announceCommit(database: StatementTarget, entityId: string): void {
  if (database.commits) return database.commits.committed([entityId]);
  // A bare pool: wake a relay elsewhere. Should that fail, the relay's poll finds the row within a second.
  database.pool.query('select pg_notify($1, $2)', [OUTBOX_CHANNEL, '']).catch(() => {});
}

function entityOf(data: object): string {
  const record = data as { id?: unknown; orderId?: unknown };
  const id = record.id ?? record.orderId;
  if (typeof id !== 'string')
    throw new Error('publishEvent needs an entityId for events without id or orderId');
  return id;
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

/**
 * The leader's lock lives as long as its database session. When the leader's host vanishes without
 * closing the connection (a node lost, a link cut), the server would keep the session, and the
 * lock, until the operating system's keepalives give up (two hours by default), and no standby
 * could take over. So the session asks the server to probe it after 5 s of silence, 3 probes 2 s
 * apart, and to give up on data unacknowledged for 10 s: a standby leads within about 15 s.
 */
const LEADER_KEEPALIVES =
  'set tcp_keepalives_idle = 5; set tcp_keepalives_interval = 2; set tcp_keepalives_count = 3; set tcp_user_timeout = 10000';

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
  private unwatchCommits: () => void = () => {};
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 256;
    this.maxInFlight = options.maxInFlight ?? 2048;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.log = options.logger.child({ component: 'outbox-relay' });
  }

  start(): void {
    this.unwatchCommits = this.options.database.commits.wake(this);
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

  private async acquireLeadership(): Promise<void> {
    while (!this.stopped && !this.leader) {
      const client = new pg.Client({ connectionString: this.options.database.url });
      client.on('error', () => {}); // surfaced through 'end'
      try {
        await client.connect();
        await client.query(LEADER_KEEPALIVES);
        const { rows } = await client.query<{ locked: boolean }>(
          'select pg_try_advisory_lock(hashtext($1)) as locked',
          ['ticketing:outbox-relay'],
        );
        if (rows[0]?.locked && !this.stopped) {
          await client.query(`listen ${OUTBOX_CHANNEL}`);
          // Its only writes are change announcements, hints that need no flush to disk.
          await client.query('set synchronous_commit = off');
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
        if (rows.length > 0) this.announce(rows);
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

  /** The rows read are committed changes: every replica's caches drop those entities now. */
  private announce(rows: OutboxRow[]): void {
    const client = this.lockClient;
    if (!client) return;
    announceChanges(
      client,
      rows.map((row) => row.entity_id),
    ).catch((error: unknown) =>
      this.log.warn({ err: error }, 'could not announce changes; caches expire them instead'),
    );
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
