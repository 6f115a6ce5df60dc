/**
 * Units of work. A service's transaction (`db.transaction` on the database `openDatabase` opened)
 * is one: what it writes, the events it queues in the outbox (`publishEvent`), and, once it has
 * committed, one signal naming the entities those events are about. The code that starts the
 * transaction owns all three; nothing watches connections to guess when a transaction ended.
 *
 * The signal goes to two kinds of listeners, through the database's `CommitSignal`:
 * - the outbox relay, woken to publish: in this process if it leads, or else by one NOTIFY, sent
 *   outside any write transaction (so with no flush to wait for), to the leader elsewhere; commits
 *   that end while that NOTIFY is on its way are covered by one more;
 * - the change feed (change-feed.ts), which tells this process's caches which entities changed
 *   before the request or event that changed them is answered.
 *
 * Why after commit, not a NOTIFY inside the transaction: Postgres serialises the commits of
 * notifying transactions (it takes a cluster-wide lock before the commit record and keeps it until
 * the record is flushed), so those commits cannot share a WAL flush, and with a few dozen concurrent
 * producers the outbox, not the disk, would set the pace.
 *
 * A transaction the unit of work does not know (a script's, a test's, on a bare drizzle handle)
 * still works: `publishEvent` NOTIFYs inside it, as above but slower. A signal lost to a crash
 * between the commit and the signal costs one poll interval of the relay, not an event. A
 * transaction rolled back signals nothing.
 */
import type pg from 'pg';
import type { Logger } from 'pino';

/** The channel the outbox relay LISTENs on. */
export const OUTBOX_CHANNEL = 'ticketing_outbox';

/** A relay, as the signal sees it. */
export interface WakeableRelay {
  /** Wakes the relay if it is the leader; false if it is not. */
  wakeIfLeader(): boolean;
}

/** Called with the entities whose events a committed transaction queued. */
export type CommitObserver = (entityIds: readonly string[]) => void;

/** Whoever in this process must know of a database's commits that queued events. */
export class CommitSignal {
  private readonly relays = new Set<WakeableRelay>();
  private readonly observers = new Set<CommitObserver>();
  private notifying = false;
  private notifyAgain = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {}

  /** Calls `observer` after each such commit; returns the unsubscribe. */
  observe(observer: CommitObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Wakes `relay` after each such commit, while it leads; returns the unsubscribe. */
  wake(relay: WakeableRelay): () => void {
    this.relays.add(relay);
    return () => this.relays.delete(relay);
  }

  /** A transaction or statement that queued events for `entityIds` has committed. */
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

/** The entities each open unit of work has queued events for, by its transaction handle. */
const queued = new WeakMap<object, string[]>();
/** The signal of each database handle `openDatabase` made. */
const signals = new WeakMap<object, CommitSignal>();

type Transactional<Tx> = {
  transaction<T>(work: (tx: Tx) => Promise<T>, config?: never): Promise<T>;
};

/**
 * Makes every `db.transaction(...)` a unit of work that tells `signal` of its commit, and every
 * statement outside one (`publishEvent(db, ...)`) tell it of its own.
 */
export function makeUnitsOfWork<Tx extends object, Db extends Transactional<Tx>>(
  db: Db,
  signal: CommitSignal,
): Db {
  const transaction = db.transaction.bind(db);
  signals.set(db, signal);
  db.transaction = async <T>(work: (tx: Tx) => Promise<T>, config?: never): Promise<T> => {
    const entities: string[] = [];
    const result = await transaction(async (tx) => {
      queued.set(tx, entities);
      return work(tx);
    }, config);
    if (entities.length > 0) signal.committed(entities);
    return result;
  };
  return db;
}

/**
 * Notes that `executor` queued an event for `entityId`. True if a unit of work or a known handle
 * will signal its commit; false if the caller must NOTIFY in the transaction itself.
 */
export function queueInUnit(executor: object, entityId: string): boolean {
  const entities = queued.get(executor);
  if (entities) {
    entities.push(entityId);
    return true;
  }
  return false;
}

/** The signal of a database handle that `openDatabase` made (for a statement that committed on its own). */
export function signalOf(executor: object): CommitSignal | undefined {
  return signals.get(executor);
}
