import { describe, expect, it } from 'vitest';
import type { ChangeListener, Changes, ChangeSource } from '../src/db/change-feed.ts';
import { ReadCache, type ReadCacheOptions } from '../src/http/read-cache.ts';
import { sleep } from '../src/testing/index.ts';

/** A change feed driven by the test. */
class FakeFeed implements ChangeSource {
  live = true;
  private readonly listeners = new Set<ChangeListener>();
  subscribe(listener: ChangeListener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  change(changes: Changes) {
    for (const listener of this.listeners) listener(changes);
  }
}

/** A loader that counts its calls and returns what `rows` holds when it is called. */
function source(rows: Record<string, string>) {
  const counter = { calls: 0 };
  const load = (key: string) => async () => {
    counter.calls += 1;
    return rows[key];
  };
  return { counter, load };
}

/** A load that the test finishes: models a query still running while a change commits. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function cacheWith(options: Partial<ReadCacheOptions> = {}) {
  const feed = new FakeFeed();
  const cache = new ReadCache<string>({
    feed,
    ttlMs: 60_000,
    maxEntries: 100,
    invalidatedBy: 'key',
    ...options,
  });
  return { feed, cache };
}

describe('ReadCache', () => {
  it('answers repeated reads from one load until the key changes', async () => {
    const { feed, cache } = cacheWith();
    const rows = { a: 'v1' };
    const { counter, load } = source(rows);
    expect(await cache.get('a', load('a'))).toBe('v1');
    expect(await cache.get('a', load('a'))).toBe('v1');
    expect(counter.calls).toBe(1);

    rows.a = 'v2';
    feed.change(['b']); // another key: still cached
    expect(await cache.get('a', load('a'))).toBe('v1');
    feed.change(['a']);
    expect(await cache.get('a', load('a'))).toBe('v2');
    expect(counter.calls).toBe(2);
  });

  it('shares one load between concurrent misses of a key', async () => {
    const { cache } = cacheWith();
    const { counter, load } = source({ a: 'v1' });
    const values = await Promise.all(Array.from({ length: 20 }, () => cache.get('a', load('a'))));
    expect(values).toEqual(Array(20).fill('v1'));
    expect(counter.calls).toBe(1);
  });

  it('does not keep what a load read before a change that committed while it ran', async () => {
    const { feed, cache } = cacheWith();
    const slow = deferred<string>();
    const before = cache.get('a', () => slow.promise); // the query has read the old row...
    feed.change(['a']); // ...and the change commits meanwhile
    // A reader arriving after the change does not join the old load.
    const after = cache.get('a', async () => 'new');
    slow.resolve('old');
    expect(await before).toBe('old'); // answered to the reader who asked before the change
    expect(await after).toBe('new');
    expect(await cache.get('a', async () => 'unexpected load')).toBe('new');
  });

  it('does not keep a result loaded across a change to everything', async () => {
    const { feed, cache } = cacheWith();
    const slow = deferred<string>();
    const before = cache.get('a', () => slow.promise);
    feed.change('all');
    slow.resolve('old');
    expect(await before).toBe('old');
    expect(await cache.get('a', async () => 'new')).toBe('new');
  });

  it("drops everything on any change when invalidated by 'any change'", async () => {
    const { feed, cache } = cacheWith({ invalidatedBy: 'any change' });
    await cache.get('page-1', async () => 'p1');
    await cache.get('page-2', async () => 'p2');
    feed.change(['some-ticket']);
    expect(await cache.get('page-1', async () => 'p1 again')).toBe('p1 again');
    expect(await cache.get('page-2', async () => 'p2 again')).toBe('p2 again');
  });

  it('expires entries after ttlMs, counted from the start of their load', async () => {
    const { cache } = cacheWith({ ttlMs: 50 });
    await cache.get('a', async () => 'v1');
    expect(await cache.get('a', async () => 'v2')).toBe('v1');
    await sleep(70);
    expect(await cache.get('a', async () => 'v2')).toBe('v2');
  });

  it('serves and keeps nothing while the feed is not live', async () => {
    const { feed, cache } = cacheWith();
    await cache.get('a', async () => 'v1');
    feed.live = false;
    expect(await cache.get('a', async () => 'v2')).toBe('v2');
    expect(await cache.get('a', async () => 'v3')).toBe('v3');
    // A load that ends after the feed went down keeps nothing either.
    feed.live = true;
    const slow = deferred<string>();
    const pending = cache.get('b', () => slow.promise);
    feed.live = false;
    slow.resolve('b1');
    await pending;
    feed.live = true;
    feed.change('all'); // what a feed says when it is back
    expect(await cache.get('b', async () => 'b2')).toBe('b2');
  });

  it('keeps neither a not-found nor a failed load', async () => {
    const { cache } = cacheWith();
    expect(await cache.get('a', async () => undefined)).toBeUndefined();
    await expect(
      cache.get('a', async () => {
        throw new Error('database down');
      }),
    ).rejects.toThrow('database down');
    expect(await cache.get('a', async () => 'v1')).toBe('v1');
    expect(cache.size).toBe(1);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const { cache } = cacheWith({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c', 'd']) await cache.get(key, async () => key);
    expect(cache.size).toBe(3);
    expect(await cache.get('a', async () => 'a reloaded')).toBe('a reloaded');
    expect(await cache.get('d', async () => 'unexpected')).toBe('d');
  });

  it('stays right when it forgets old per-key changes', async () => {
    const { feed, cache } = cacheWith({ maxEntries: 10 }); // remembers 1,024 changed keys
    const slow = deferred<string>();
    const before = cache.get('a', () => slow.promise);
    feed.change(['a']);
    for (let i = 0; i < 2_000; i += 1) feed.change([`other-${i}`]); // 'a' is forgotten
    slow.resolve('old');
    await before;
    expect(await cache.get('a', async () => 'new')).toBe('new');
  });

  it('is off with ttlMs 0: every read loads', async () => {
    const { cache } = cacheWith({ ttlMs: 0 });
    const { counter, load } = source({ a: 'v1' });
    await cache.get('a', load('a'));
    await cache.get('a', load('a'));
    expect(counter.calls).toBe(2);
  });
});
