/**
 * The change feed of a service's database: which entities committed transactions changed, for
 * caches kept in front of the database (http/read-cache.ts). It needs no writes of its own: every
 * change that others must see already writes an outbox row naming its entity, and the feed reads
 * those from two places.
 *
 * - This process's transactions: each unit of work (unit-of-work.ts) reports its entities as soon
 *   as it has committed, before the request or event that made the change is answered. A client
 *   therefore reads its own writes from the replica that made them.
 * - Every other replica's: the outbox relay, when it reads committed rows to publish them,
 *   announces their entities on the `ticketing_changes` channel (`announceChanges`), which every
 *   replica's feed LISTENs on: a few milliseconds after the commit, a little more when the relay
 *   is busy.
 *
 * While the LISTEN connection is down the feed is not `live`, so that caches neither serve nor keep
 * anything; when it is up again, subscribers hear 'all' (changes announced meanwhile were missed).
 * An announcement lost some other way (the relay's query failed, a silent network cut) is why
 * caches also give their entries a short lifetime.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { CommitSignal } from './unit-of-work.ts';
import { listenForNotifications, type NotificationListener } from './notifications.ts';

export const CHANGES_CHANNEL = 'ticketing_changes';
/** Everything may have changed (a reconnect, an entity id the payload cannot carry: a comma, non-ASCII). */
const EVERYTHING = '*';
/** NOTIFY payloads must stay under 8,000 bytes. */
const MAX_PAYLOAD = 7_900;

/** Entities changed by committed transactions, or 'all' when some changes may have been missed. */
export type Changes = readonly string[] | 'all';
export type ChangeListener = (changes: Changes) => void;

/** What a cache needs of a feed. */
export interface ChangeSource {
  /** True while every change committed on the database reaches the subscribers. */
  readonly live: boolean;
  /** Returns the unsubscribe. */
  subscribe(listener: ChangeListener): () => void;
}

/**
 * Tells every feed on the database that `entityIds` changed: one statement, one notification per
 * ~200 ids. Called by the outbox relay with the rows it read.
 */
export async function announceChanges(
  client: pg.Client | pg.Pool,
  entityIds: readonly string[],
): Promise<void> {
  const ids = [...new Set(entityIds)];
  const payloads: string[] = [];
  let payload = '';
  for (const id of ids) {
    if (id.includes(',') || id === EVERYTHING || Buffer.byteLength(id) !== id.length || id.length > 200) {
      payloads.splice(0, payloads.length, EVERYTHING);
      payload = '';
      break;
    }
    if (payload.length + id.length + 1 > MAX_PAYLOAD) {
      payloads.push(payload);
      payload = '';
    }
    payload = payload ? `${payload},${id}` : id;
  }
  if (payload) payloads.push(payload);
  if (payloads.length === 0) return;
  await client.query('select pg_notify($1, payload) from unnest($2::text[]) as payload', [
    CHANGES_CHANNEL,
    payloads,
  ]);
}

export class ChangeFeed implements ChangeSource {
  private readonly listeners = new Set<ChangeListener>();
  private notifications: NotificationListener | undefined;
  private unwatch: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly commits: CommitSignal,
    private readonly logger: Logger,
  ) {}

  /** True while every change committed on the database reaches the subscribers. */
  get live(): boolean {
    return !this.closed && this.notifications?.listening === true;
  }

  /** Starts the feed on first use (a LISTEN connection, and this process's commits). Returns the unsubscribe. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (!this.notifications && !this.closed) {
      this.unwatch = this.commits.observe((entityIds) => this.emit(entityIds));
      this.notifications = listenForNotifications(
        this.url,
        CHANGES_CHANNEL,
        (payload) => this.emit(payload === undefined || payload === EVERYTHING ? 'all' : payload.split(',')),
        this.logger,
      );
    }
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unwatch?.();
    await this.notifications?.close();
    this.listeners.clear();
  }

  private emit(changes: Changes): void {
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch (error) {
        this.logger.error({ err: error }, 'a change listener failed');
      }
    }
  }
}
