/**
 * A read-through cache in front of the database, for responses that many clients ask for (a
 * ticket, the first page of tickets), kept right by the database's change feed (db/change-feed.ts).
 *
 * What a reader can count on:
 * - on the replica that made a change, no read that starts after the change was answered returns
 *   what was there before it;
 * - on any other replica, the change shows within the feed's delay (a few milliseconds), and
 *   within `ttlMs` at worst (an announcement lost);
 * - while the feed is not live (its connection is down), nothing is served from or kept in the
 *   cache: every read goes to the database.
 *
 * How: an entry is dropped when the feed reports a change to its key (`invalidatedBy: 'key'`, the
 * key being the entity id) or to anything (`'any change'`, for pages and lists). A load that was
 * running when its key changed may have read the old row, so its result is answered to the readers
 * who were waiting for it but not kept; readers who arrive after the change start a new load.
 * Concurrent misses of one key share one load. Entries live `ttlMs`, counted from the start of
 * their load; beyond `maxEntries` the oldest are dropped.
 */
import type { FastifyReply } from 'fastify';
import type { ChangeSource, Changes } from '../db/change-feed.ts';

/**
 * Answers with JSON text serialised earlier (a cached response). Fastify sends a string with a
 * JSON content type as it is, past the route's response serialiser.
 */
export function sendJsonText(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

export interface ReadCacheOptions {
  feed: ChangeSource;
  /** Lifetime of an entry; 0 turns the cache off (every read loads). */
  ttlMs: number;
  maxEntries: number;
  /** 'key': a change to entity X drops the entry of key X. 'any change': every change drops all. */
  invalidatedBy: 'key' | 'any change';
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class ReadCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loads = new Map<string, Promise<V | undefined>>();
  /** Counts changes seen; a load keeps its result only if its key saw none since it started. */
  private generation = 0;
  /** Generation of the last change of each key (bounded: the oldest are folded into `clearedAt`). */
  private readonly changedAt = new Map<string, number>();
  private clearedAt = 0;
  private readonly maxChangedKeys: number;
  private readonly unsubscribe: () => void = () => {};

  constructor(private readonly options: ReadCacheOptions) {
    this.maxChangedKeys = Math.max(1_024, options.maxEntries);
    if (options.ttlMs > 0) this.unsubscribe = options.feed.subscribe((changes) => this.changed(changes));
  }

  /** Stops listening to the feed and drops everything. */
  close(): void {
    this.unsubscribe();
    this.clear();
  }

  /** Number of entries held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The value of `key`: from the cache while fresh, else from `load` (shared with concurrent
   * readers of the same key). An undefined result (not found) is not kept.
   */
  async get<R extends V | undefined>(key: string, load: () => Promise<R>): Promise<R> {
    if (this.options.ttlMs <= 0 || !this.options.feed.live) return load();
    const startedAt = performance.now(); // monotonic: a clock step must not stretch a lifetime
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      if (entry.expiresAt > startedAt) return entry.value as R;
      this.entries.delete(key);
    }
    const running = this.loads.get(key);
    if (running !== undefined) return running as Promise<R>;
    const generation = this.generation;
    const loading = load().then(
      (value) => {
        if (this.loads.get(key) === loading) this.loads.delete(key);
        if (value !== undefined && this.unchangedSince(key, generation) && this.options.feed.live) {
          this.store(key, { value, expiresAt: startedAt + this.options.ttlMs });
        }
        return value;
      },
      (error: unknown) => {
        if (this.loads.get(key) === loading) this.loads.delete(key);
        throw error;
      },
    );
    this.loads.set(key, loading);
    return loading;
  }

  /** Drops everything (and keeps nothing that loads started before now). */
  clear(): void {
    this.generation += 1;
    this.clearedAt = this.generation;
    this.entries.clear();
    this.loads.clear();
    this.changedAt.clear();
  }

  private changed(changes: Changes): void {
    if (changes === 'all' || this.options.invalidatedBy === 'any change') {
      this.clear();
      return;
    }
    this.generation += 1;
    for (const key of changes) {
      this.entries.delete(key);
      this.loads.delete(key);
      this.changedAt.delete(key); // re-inserted last: the map stays in order of change
      this.changedAt.set(key, this.generation);
    }
    if (this.changedAt.size > this.maxChangedKeys) this.forgetOldestChanges();
  }

  /** Folds the older half of the per-key changes into `clearedAt`: loads older than those keep nothing. */
  private forgetOldestChanges(): void {
    let drop = this.changedAt.size - this.maxChangedKeys / 2;
    for (const [key, generation] of this.changedAt) {
      if (drop-- <= 0) break;
      this.clearedAt = Math.max(this.clearedAt, generation);
      this.changedAt.delete(key);
    }
  }

  private unchangedSince(key: string, generation: number): boolean {
    return this.clearedAt <= generation && (this.changedAt.get(key) ?? 0) <= generation;
  }

  private store(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
