/**
 * The outbox relay: publishes committed outbox rows. Three small parts:
 * - **the lease** (relay-lease.ts): one replica per database leads at a time;
 * - **the forwarding loop** (`OutboxRelay`): woken right after each commit that queued events
 *   (db/unit-of-work.ts), or by the lease's LISTEN for other replicas' commits, polling only as a
 *   fallback, it reads unsent rows in commit order, announces their entities to every replica's
 *   caches (db/change-feed.ts), hands them to the transport, and backs off while the transport
 *   refuses them;
 * - **the marks** (`SentMarks`): rows the transport accepted are marked sent in batches.
 *
 * **Ordering is the consumers' job, not the relay's.** Every handler applies a version only on top
 * of the one before it, ignores versions it has passed and defers ones from the future
 * (`RetryLater`). It has to: one entity's events travel on several durables (an order's
 * `order:created` and `order:cancelled` are different subjects) and are pulled by several replicas
 * at once, so no order a publisher keeps survives to the handlers anyway. So the relay keeps none
 * of its own: it hands rows to the transport in commit order, all at once (on JetStream they go
 * out on one connection, in that order, so the stream holds them in commit order), and when a
 * publish fails it re-reads the row after a pause, possibly behind later rows of its entity that
 * were accepted meanwhile. Their consumers defer those until it arrives.
 */
import type { Logger } from 'pino';
import type { ServiceDatabase } from '../db/database.ts';
import { announceChanges } from '../db/change-feed.ts';
import { RelayLease } from './relay-lease.ts';
import type { Transport } from './transport.ts';

/**
 * Under load the relay reads the outbox at most this often, and marks rows sent at most this often
 * (sooner once a batch is waiting), so that each query carries a batch rather than a row or two.
 * An idle relay reads at once when woken.
 */
const MIN_FETCH_INTERVAL_MS = 5;
const FLUSH_INTERVAL_MS = 20;
/** While the database refuses the marks, they are tried again this often. */
const FLUSH_RETRY_MS = 500;

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

/** Rows the transport accepted, marked sent in batches; each marked row leaves the in-flight set. */
class SentMarks {
  private readonly accepted: number[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly database: ServiceDatabase,
    private readonly batchSize: number,
    private readonly marked: (seqs: readonly number[]) => void,
    private readonly log: Logger,
  ) {}

  add(seq: number): void {
    this.accepted.push(seq);
    this.schedule(this.accepted.length >= this.batchSize ? 0 : FLUSH_INTERVAL_MS);
  }

  /** Marks everything accepted so far. */
  async flush(): Promise<void> {
    if (this.accepted.length === 0) return;
    const batch = this.accepted.splice(0);
    try {
      await this.database.pool.query('update outbox set sent_at = now() where seq = any($1::bigint[])', [
        batch,
      ]);
    } catch (error) {
      this.accepted.unshift(...batch);
      throw error;
    }
    this.marked(batch);
  }

  private schedule(delayMs: number): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) =>
      delayMs > 0 ? setTimeout(resolve, delayMs) : setImmediate(resolve),
    )
      .then(() => this.flush())
      .then(
        () => 0,
        (error: unknown) => {
          this.log.warn({ err: error }, 'could not mark outbox rows sent; will retry');
          return FLUSH_RETRY_MS;
        },
      )
      .then((retryInMs) => {
        this.flushing = undefined;
        if (this.accepted.length > 0)
          this.schedule(retryInMs || (this.accepted.length >= this.batchSize ? 0 : FLUSH_INTERVAL_MS));
      });
  }
}

export class OutboxRelay {
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly log: Logger;
  private readonly lease: RelayLease;
  private readonly marks: SentMarks;
  /** Rows read and not yet marked sent (or failed): the next read skips them. */
  private readonly inFlight = new Set<number>();
  private stopped = false;
  private running = false;
  private wakeRequested = false;
  private failures = 0;
  private pausedUntil = 0;
  private lastFetchAt = 0;
  private timers: NodeJS.Timeout[] = [];
  private unwatchCommits: () => void = () => {};
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 256;
    this.maxInFlight = options.maxInFlight ?? 2048;
    this.log = options.logger.child({ component: 'outbox-relay' });
    this.lease = new RelayLease(
      options.database.url,
      { acquired: () => this.wake(), woken: () => this.wake() },
      this.log,
    );
    this.marks = new SentMarks(
      options.database,
      this.batchSize,
      (seqs) => {
        for (const seq of seqs) this.inFlight.delete(seq);
        this.wake();
        this.notifyIdle();
      },
      this.log,
    );
  }

  start(): void {
    this.unwatchCommits = this.options.database.commits.wake(this);
    this.lease.start();
    this.timers.push(setInterval(() => this.wake(), this.options.pollIntervalMs ?? 1_000));
    this.timers.push(setInterval(() => void this.purgeSent(), 60_000));
  }

  /** Wakes the relay if it is the leader; false if it is not. */
  wakeIfLeader(): boolean {
    if (!this.lease.held) return false;
    this.wake();
    return true;
  }

  /** Asks the relay to look for unsent rows now. */
  wake(): void {
    if (this.stopped || !this.lease.held) return;
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

  /** Stops reading, lets in-flight publishes finish (bounded), marks them, gives up the lease. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    this.unwatchCommits();
    for (const timer of this.timers) clearInterval(timer);
    const idle = new Promise<void>((resolve) => {
      if (this.inFlight.size === 0 && !this.running) resolve();
      else this.idleWaiters.push(resolve);
    });
    await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    await this.marks.flush().catch(() => {});
    await this.lease.stop();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.wakeRequested && this.lease.held && !this.stopped) {
        this.wakeRequested = false;
        const waitMs = this.pausedUntil - Date.now();
        if (waitMs > 0) {
          setTimeout(() => this.wake(), waitMs);
          break;
        }
        const room = this.maxInFlight - this.inFlight.size;
        if (room <= 0) break; // marking rows sent wakes us
        // With rows in flight, wait for a batch's worth of room (rows marked sent wake us): topping
        // up one row at a time would read the outbox once per published row.
        if (this.inFlight.size > 0 && room < Math.min(this.batchSize, this.maxInFlight)) break;
        const sinceLastFetch = Date.now() - this.lastFetchAt;
        if (sinceLastFetch < MIN_FETCH_INTERVAL_MS) {
          await new Promise((resolve) => setTimeout(resolve, MIN_FETCH_INTERVAL_MS - sinceLastFetch));
          if (!this.lease.held || this.stopped) break;
          if (this.pausedUntil > Date.now()) {
            this.wakeRequested = true; // a publish failed meanwhile: wait out its pause first
            continue;
          }
        }
        this.lastFetchAt = Date.now();
        const limit = Math.min(room, this.batchSize);
        const rows = await this.fetch(limit);
        if (rows.length > 0) this.announce(rows);
        for (const row of rows) this.forward(row);
        if (rows.length === limit) this.wakeRequested = true;
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
    const session = this.lease.session;
    if (!session) return;
    announceChanges(
      session,
      rows.map((row) => row.entity_id),
    ).catch((error: unknown) =>
      this.log.warn({ err: error }, 'could not announce changes; caches expire them instead'),
    );
  }

  /** Hands one row to the transport; it is marked sent once accepted, read again if refused. */
  private forward(row: OutboxRow): void {
    this.inFlight.add(row.seq);
    this.options.transport.publish(row.type, row.event_id, row.envelope).then(
      () => {
        this.failures = 0;
        this.marks.add(row.seq);
      },
      (error: unknown) => {
        this.log.warn({ err: error, eventId: row.event_id, type: row.type }, 'publish failed; will retry');
        this.pause();
        this.inFlight.delete(row.seq); // read again after the pause
        this.notifyIdle();
      },
    );
  }

  private pause(): void {
    this.failures += 1;
    const delay = Math.min(2_000, 100 * 2 ** Math.min(this.failures, 5));
    this.pausedUntil = Date.now() + delay;
    setTimeout(() => this.wake(), delay);
  }

  private notifyIdle(): void {
    if (this.inFlight.size > 0 || this.running) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async purgeSent(): Promise<void> {
    if (!this.lease.held) return;
    await this.options.database.pool
      .query(`delete from outbox where sent_at < now() - $1::int * interval '1 millisecond'`, [
        this.options.retentionMs ?? 3_600_000,
      ])
      .catch(() => {});
  }
}
