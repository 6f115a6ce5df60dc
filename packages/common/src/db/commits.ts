/**
 * Commit signals: which transactions on a pool wrote outbox rows, and for which entities, told to
 * whoever watches the pool right after each of those transactions ends.
 *
 * Two watchers use them. The outbox relay is woken to publish (see below), and the change feed
 * (change-feed.ts) tells this process's caches which entities changed, before the request or
 * event that made the change is answered.
 *
 * Why after commit, not a NOTIFY inside the transaction: a NOTIFY issued inside the producer's
 * transaction would wake the relay exactly at commit, but Postgres serialises the commits of
 * notifying transactions: it takes a cluster-wide lock before the commit record and keeps it
 * until the record is flushed, so those commits cannot share a WAL flush, and with a few dozen
 * concurrent producers the outbox, not the disk, sets the pace. It also costs every event a signal
 * to the listening backend and a message to the relay.
 *
 * So the signal is sent after commit instead. A transaction that wrote outbox rows on a connection
 * of a watched pool is expected to end when the pool gets the connection back ('release', which
 * comes after COMMIT or ROLLBACK has returned). Then the relay is woken in-process if it leads, or
 * else one NOTIFY, outside any write transaction (so with no flush to wait for), wakes the leader
 * elsewhere; commits that end while that NOTIFY is on its way are covered by one more. A
 * transaction on a connection nobody in this process watches (a script, a test without a relay)
 * notifies inside the transaction as before. A wake-up lost to a crash between the commit and the
 * signal costs one poll interval, not an event. A rolled-back transaction is reported too: a wake-up
 * that finds nothing, a cache entry dropped for nothing.
 */
import type pg from 'pg';
import type { Logger } from 'pino';

/** The channel the outbox relay LISTENs on. */
export const OUTBOX_CHANNEL = 'ticketing_outbox';

/** A relay, as the commit watch sees it. */
export interface WakeableRelay {
  /** Wakes the relay if it is the leader; false if it is not. */
  wakeIfLeader(): boolean;
}

/** Called with the entities whose outbox rows a transaction on the pool wrote, once it ended. */
export type CommitObserver = (entityIds: readonly string[]) => void;

/** A pooled connection; `processID` is the backend's pid (node-postgres sets it, untyped). */
type PooledClient = pg.PoolClient & { processID?: unknown };

/** Backends, as `database:pid`, checked out of a watched pool, and the watch of that pool. */
const checkedOut = new Map<string, CommitWatch>();
const watches = new Map<pg.Pool, CommitWatch>();

/**
 * Called with the backend of a transaction that wrote an outbox row for `entityId`. True if a
 * watched pool will signal the end of that transaction; false if the caller must NOTIFY itself.
 */
export function expectCommit(backend: string, entityId: string): boolean {
  const watch = checkedOut.get(backend);
  if (!watch) return false;
  watch.expect(backend, entityId);
  return true;
}

/**
 * Reports a statement on `pool` that wrote outbox rows for `entityIds` and has committed already
 * (it ran on its own, outside a transaction). False if nobody watches the pool: then the caller
 * must NOTIFY the relay itself.
 */
export function reportCommitted(pool: pg.Pool, entityIds: readonly string[]): boolean {
  const watch = watches.get(pool);
  if (!watch) return false;
  watch.committed(entityIds);
  return true;
}

/** Watches `pool` for commits that wrote outbox rows, for a relay or an observer; returns the unwatch. */
export function watchCommits(
  pool: pg.Pool,
  databaseUrl: string,
  logger: Logger,
  watcher: { relay: WakeableRelay } | { observer: CommitObserver },
): () => void {
  let watch = watches.get(pool);
  if (!watch) {
    const databaseName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
    watch = new CommitWatch(pool, databaseName, logger);
    watches.set(pool, watch);
  }
  const target = watch;
  const set: Set<unknown> = 'relay' in watcher ? target.relays : target.observers;
  const member = 'relay' in watcher ? watcher.relay : watcher.observer;
  set.add(member);
  return () => {
    if (!set.delete(member) || target.relays.size + target.observers.size > 0) return;
    target.dispose();
    watches.delete(pool);
  };
}

class CommitWatch {
  readonly relays = new Set<WakeableRelay>();
  readonly observers = new Set<CommitObserver>();
  /** Backends whose open transaction wrote outbox rows, with the entities of those rows. */
  private readonly pending = new Map<string, string[]>();
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

  expect(backend: string, entityId: string): void {
    const entities = this.pending.get(backend);
    if (entities) entities.push(entityId);
    else this.pending.set(backend, [entityId]);
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
    const entities = this.pending.get(backend);
    if (entities === undefined) return;
    this.pending.delete(backend);
    this.committed(entities);
  };

  committed(entityIds: readonly string[]): void {
    for (const observer of this.observers) {
      try {
        observer(entityIds);
      } catch (error) {
        this.log.error({ err: error }, 'a commit observer failed');
      }
    }
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
      .query('select pg_notify($1, $2)', [OUTBOX_CHANNEL, ''])
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
