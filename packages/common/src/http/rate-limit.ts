/**
 * Rate limits, answered `429` with `Retry-After` and the API's error body:
 *
 * - a general ceiling per client address on every route a service registers (`RATE_LIMIT_MAX`
 *   requests per `RATE_LIMIT_WINDOW_SECONDS`), from `@fastify/rate-limit`'s own hook;
 * - per-route limits per address (`app.limits.perAddress`), for the routes worth guessing at or
 *   flooding (sign-in, sign-up, the door's verification), as `onRequest` hooks: refused before the
 *   body is even parsed;
 * - a backoff per key (`app.limits.backoff`), for sign-in per account: a few attempts free, then
 *   a wait that doubles with each further attempt, up to a cap, forgotten on success.
 *
 * Where the counts live: in this process's memory (the one-process marketplace, and tests), or in
 * the service's own database (`rate_limits`, an UNLOGGED table), shared by all its replicas, so a
 * limit holds however many there are. The per-route limits and the backoff count there exactly,
 * one atomic upsert per attempt (those routes are rare and slow: a sign-in runs scrypt). The
 * ceiling is on every request of the hot routes, so it counts in memory and shares its counts
 * through the table every 100 ms, one statement for every address seen meanwhile: a request costs
 * a map lookup, and another replica's requests are seen within 100 ms. Once a key is over its
 * limit, each replica remembers until when and refuses without asking the database.
 *
 * The client's address is the socket's, or the one a proxy wrote in `X-Forwarded-For` when the
 * proxy is trusted (`TRUST_PROXY`, Fastify's `trustProxy`); IPv6 addresses count per /64, as a
 * host usually has the whole /64.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type pg from 'pg';
import { Type, type Static } from 'typebox';
import { HttpError } from '../errors.ts';
import { ConfigError } from '../config/config.ts';

/** `max` requests per `windowSeconds`, counted from the first of them. */
export interface WindowLimit {
  max: number;
  windowSeconds: number;
}

/**
 * A backoff: `freeAttempts` attempts without waiting; from then on each attempt makes the next one
 * wait, 1 s after the first of them, doubling after each, at most `maxDelaySeconds`. The count is
 * forgotten at a success (`Backoff.clear`) or a day after the last attempt.
 */
export interface BackoffPolicy {
  freeAttempts: number;
  maxDelaySeconds: number;
}

export interface Backoff {
  /** Counts an attempt for `key`, or refuses it (a `TooManyRequestsError`) while `key` must wait. */
  attempt(key: string): Promise<void>;
  /** Forgets the attempts counted for `key` (after a success). */
  clear(key: string): Promise<void>;
}

export interface Limits {
  /** An `onRequest` hook refusing a route's requests from an address past `limit`. */
  perAddress(name: string, limit: WindowLimit, what: string): (request: FastifyRequest) => Promise<void>;
  /** A backoff on keys the caller chooses (an account), under `name`. */
  backoff(name: string, policy: BackoffPolicy, what: string): Backoff;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-route limits, on the server's store (see `installRateLimits`). */
    limits: Limits;
  }
}

export interface RateLimitOptions {
  /** The service's database, whose `rate_limits` table every replica shares; absent: memory. */
  pool?: pg.Pool;
  /** The ceiling per address on every route registered after the server is built; absent: none. */
  ceiling?: WindowLimit;
}

/** 429: wait `retryAfter` seconds (the `Retry-After` header says it too). */
export class TooManyRequestsError extends HttpError {
  constructor(
    what: string,
    readonly retryAfter: number,
  ) {
    super(429, `${what}; try again in ${retryAfter} second${retryAfter === 1 ? '' : 's'}`);
  }
}

/** A 429 for a wait of `waitMs`, said in whole seconds (at least 1); the server adds `Retry-After`. */
export const tooManyRequests = (what: string, waitMs: number): TooManyRequestsError =>
  new TooManyRequestsError(what, Math.max(1, Math.ceil(waitMs / 1000)));

/** The key a client's requests are counted under: its address (an IPv6 one by its /64). */
export const clientKey = (request: FastifyRequest): string => normalizeIP(request.ip);

/** The settings every HTTP server reads (a runtime spreads them into its configuration). */
export const HttpLimitsConfig = Type.Object({
  /**
   * Which proxies in front may say who the client is (`X-Forwarded-For`): unset or `false`, none;
   * a number, that many hops; else a comma-separated list of addresses or CIDR ranges.
   */
  TRUST_PROXY: Type.Optional(Type.String()),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 1200 }),
  RATE_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 60 }),
});
export type HttpLimitsConfig = Static<typeof HttpLimitsConfig>;

/** The ceiling of `HttpLimitsConfig`. */
export const ceilingOf = (config: HttpLimitsConfig): WindowLimit => ({
  max: config.RATE_LIMIT_MAX,
  windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
});

/** Fastify's `trustProxy`, as `TRUST_PROXY` sets it. */
export type TrustProxy = false | string | ((address: string, hop: number) => boolean);

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * `TRUST_PROXY` as Fastify's `trustProxy`. `true` is refused: it would take the leftmost address of
 * `X-Forwarded-For`, which the client writes, so anyone could count as anyone.
 */
export function trustProxyOf(value: string | undefined): TrustProxy {
  const text = (value ?? '').trim();
  if (text === '' || text === 'false') return false;
  if (/^\d+$/.test(text)) {
    // The hops nearest this server (what Fastify does with a number, which its types do not take).
    const hops = Number(text);
    return (_address, hop) => hop < hops;
  }
  const items = text.split(',').map((item) => item.trim());
  for (const item of items) {
    const [address, prefix, ...rest] = item.split('/');
    const family = isIP(address ?? '');
    const valid =
      PROXY_NAMES.has(item) ||
      (rest.length === 0 &&
        family !== 0 &&
        (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))));
    if (!valid)
      throw new ConfigError(
        `TRUST_PROXY: "${item}" is not a number of proxies, an address, a CIDR range or loopback/linklocal/uniquelocal` +
          (item === 'true' ? ' (true would trust an X-Forwarded-For any client can write)' : ''),
      );
  }
  return items.join(',');
}

/** How often the ceiling's counts are shared through the database. */
export const CEILING_SYNC_MS = 100;
/** How often expired rows are deleted, and expired memory of refusals dropped. */
const PURGE_MS = 60_000;
/** A backoff's count is forgotten this long after its last attempt. */
const BACKOFF_MEMORY_SECONDS = 86_400;
/** Keys a memory store keeps at most (the oldest go first). */
const MEMORY_KEYS = 100_000;

/** A stored key: the limit's name, readable, and a hash of what it counts (no address or email kept). */
const storedKey = (key: string): string => {
  const colon = key.indexOf(':');
  return `${key.slice(0, colon)}:${createHash('sha256').update(key).digest('base64url')}`;
};

/** The store interface of @fastify/rate-limit. */
interface WindowStore {
  incr(
    key: string,
    callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
    timeWindow: number,
    max: number,
  ): void;
  child(routeOptions: unknown): WindowStore;
}

/** Keys known to be over their limit until a time (ms), so that refusing them costs no query. */
class Refusals {
  private readonly until = new Map<string, number>();

  waitMs(key: string, now: number): number {
    const until = this.until.get(key);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.until.delete(key);
    return 0;
  }

  note(key: string, until: number): void {
    if (this.until.size >= MEMORY_KEYS) this.until.delete(this.until.keys().next().value!);
    this.until.set(key, until);
  }

  forget(key: string): void {
    this.until.delete(key);
  }

  purge(now: number): void {
    for (const [key, until] of this.until) if (until <= now) this.until.delete(key);
  }
}

const WINDOW_SQL = `
  insert into rate_limits as r (key, hits, expires_at)
  values ($1, 1, now() + make_interval(secs => $2::float8 / 1000))
  on conflict (key) do update set
    hits = case when r.expires_at <= now() then 1 else r.hits + 1 end,
    expires_at = case when r.expires_at <= now() then excluded.expires_at else r.expires_at end
  returning hits, ceil(extract(epoch from r.expires_at - now()) * 1000)::int as ttl`;

/** A window counted exactly in the database: one upsert per request, none once over the limit. */
class DatabaseWindowStore implements WindowStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly refusals: Refusals,
  ) {}

  incr(key: string, callback: Parameters<WindowStore['incr']>[1], timeWindow: number, max: number): void {
    const now = Date.now();
    const wait = this.refusals.waitMs(key, now);
    if (wait > 0) return callback(null, { current: max + 1, ttl: wait });
    this.pool
      .query<{ hits: number; ttl: number }>({
        name: 'rate-limit-window',
        text: WINDOW_SQL,
        values: [storedKey(key), timeWindow],
      })
      .then(
        ({ rows: [row] }) => {
          if (row!.hits > max) this.refusals.note(key, now + row!.ttl);
          callback(null, { current: row!.hits, ttl: row!.ttl });
        },
        (error: Error) => callback(error),
      );
  }

  child(): WindowStore {
    return this;
  }
}

const SHARE_SQL = `
  insert into rate_limits as r (key, hits, expires_at)
  select key, hits, now() + make_interval(secs => $3::float8 / 1000)
    from unnest($1::text[], $2::int[]) as batch(key, hits)
  on conflict (key) do update set
    hits = case when r.expires_at <= now() then excluded.hits else r.hits + excluded.hits end,
    expires_at = case when r.expires_at <= now() then excluded.expires_at else r.expires_at end
  returning key, hits, ceil(extract(epoch from r.expires_at - now()) * 1000)::int as ttl`;

interface CeilingCount {
  /** Every replica's count, as the database last said. */
  shared: number;
  /** This replica's requests being shared now, and those since. */
  sending: number;
  pending: number;
  expiresAt: number;
}

/**
 * The ceiling's store on a database: counts in memory, shared every `CEILING_SYNC_MS` through one
 * statement (an upsert of every key with requests since, in key order so that replicas lock rows
 * alike); what the database answers is every replica's count. A failed share keeps its counts for
 * the next. Its children (the per-route limits) count exactly.
 */
class SharedCeilingStore implements WindowStore {
  private readonly counts = new Map<string, CeilingCount>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private windowMs = 60_000;
  private readonly exact: DatabaseWindowStore;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: FastifyBaseLogger,
    refusals: Refusals,
  ) {
    this.exact = new DatabaseWindowStore(pool, refusals);
  }

  incr(key: string, callback: Parameters<WindowStore['incr']>[1], timeWindow: number): void {
    const now = Date.now();
    let count = this.counts.get(key);
    if (!count || count.expiresAt <= now) {
      count = { shared: 0, sending: 0, pending: 0, expiresAt: now + timeWindow };
      if (this.counts.size >= MEMORY_KEYS) this.evict(now);
      this.counts.set(key, count);
    }
    count.pending++;
    this.windowMs = timeWindow;
    if (!this.closed) this.timer ??= setTimeout(() => void this.share(), CEILING_SYNC_MS).unref();
    callback(null, { current: count.shared + count.sending + count.pending, ttl: count.expiresAt - now });
  }

  child(): WindowStore {
    return this.exact;
  }

  private evict(now: number): void {
    this.purge(now);
    if (this.counts.size >= MEMORY_KEYS) this.counts.delete(this.counts.keys().next().value!);
  }

  /** Drops the counts of windows that are over and have nothing left to share. */
  purge(now: number): void {
    for (const [key, count] of this.counts)
      if (count.expiresAt <= now && count.pending === 0 && count.sending === 0) this.counts.delete(key);
  }

  /** Shares the counts since the last share; every replica's come back. */
  async share(): Promise<void> {
    const batch = [...this.counts]
      .filter(([, count]) => count.pending > 0)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    if (batch.length === 0) {
      this.timer = undefined;
      return;
    }
    for (const [, count] of batch) {
      count.sending += count.pending;
      count.pending = 0;
    }
    const stored = new Map(batch.map(([key, count]) => [storedKey(key), count]));
    try {
      const { rows } = await this.pool.query<{ key: string; hits: number; ttl: number }>({
        name: 'rate-limit-share',
        text: SHARE_SQL,
        values: [[...stored.keys()], batch.map(([, count]) => count.sending), this.windowMs],
      });
      const now = Date.now();
      for (const row of rows) {
        const count = stored.get(row.key)!;
        count.shared = row.hits;
        count.sending = 0;
        count.expiresAt = now + row.ttl;
      }
    } catch (error) {
      for (const count of stored.values()) {
        count.pending += count.sending;
        count.sending = 0;
      }
      this.logger.warn({ err: error }, 'could not share the rate-limit counts; will try again');
    } finally {
      this.timer = this.closed ? undefined : setTimeout(() => void this.share(), CEILING_SYNC_MS).unref();
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A backoff in this process's memory. */
class MemoryBackoff {
  private readonly entries = new Map<string, { hits: number; blockedUntil: number; expiresAt: number }>();

  constructor(private readonly policy: BackoffPolicy) {}

  /** 0 when the attempt is counted; else how long the key must still wait (ms). */
  attempt(key: string, now: number): number {
    let entry = this.entries.get(key);
    if (entry && entry.expiresAt <= now) entry = undefined;
    if (entry && entry.blockedUntil > now) return entry.blockedUntil - now;
    const hits = (entry?.hits ?? 0) + 1;
    this.entries.delete(key); // re-inserted last: the map's order is the order of last attempts
    if (this.entries.size >= MEMORY_KEYS) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, {
      hits,
      blockedUntil: now + delayMs(this.policy, hits),
      expiresAt: now + BACKOFF_MEMORY_SECONDS * 1000,
    });
    return 0;
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  purge(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

/** The wait after the `hits`-th attempt: none before the free ones are used, then 1 s doubling. */
function delayMs({ freeAttempts, maxDelaySeconds }: BackoffPolicy, hits: number): number {
  if (hits < freeAttempts) return 0;
  return Math.min(maxDelaySeconds, 2 ** Math.min(hits - freeAttempts, 30)) * 1000;
}

// $2: free attempts, $3: the cap in seconds. `prior` is the count before this attempt (0 once
// expired); an attempt while blocked updates nothing, and the second query reads how long to wait.
const PRIOR = `(case when r.expires_at <= now() then 0 else r.hits end)`;
const BACKOFF_SQL = `
  with attempt as (
    insert into rate_limits as r (key, hits, blocked_until, expires_at)
    values ($1, 1,
      case when 1 >= $2::int then now() + make_interval(secs => least($3::float8, power(2, 1 - $2::int))) end,
      now() + make_interval(secs => ${BACKOFF_MEMORY_SECONDS}))
    on conflict (key) do update set
      hits = ${PRIOR} + 1,
      blocked_until = case when ${PRIOR} + 1 >= $2::int
        then now() + make_interval(secs => least($3::float8, power(2, least(${PRIOR} + 1 - $2::int, 30)))) end,
      expires_at = now() + make_interval(secs => ${BACKOFF_MEMORY_SECONDS})
    where r.expires_at <= now() or r.blocked_until is null or r.blocked_until <= now()
    returning 1
  )
  select ceil(extract(epoch from blocked_until - now()) * 1000)::int as wait
    from rate_limits where key = $1 and not exists (select 1 from attempt)`;

/** A backoff in the database: one statement per attempt, none while a replica knows it waits. */
class DatabaseBackoff {
  constructor(
    private readonly pool: pg.Pool,
    private readonly policy: BackoffPolicy,
    private readonly refusals: Refusals,
  ) {}

  async attempt(key: string, now: number): Promise<number> {
    const known = this.refusals.waitMs(key, now);
    if (known > 0) return known;
    const { rows } = await this.pool.query<{ wait: number | null }>({
      name: 'rate-limit-backoff',
      text: BACKOFF_SQL,
      values: [storedKey(key), this.policy.freeAttempts, this.policy.maxDelaySeconds],
    });
    if (rows.length === 0) return 0; // counted
    // Refused; a row that another attempt inserted this very moment is not visible yet: 1 s.
    const wait = Math.max(rows[0]!.wait ?? 1000, 1);
    this.refusals.note(key, now + wait);
    return wait;
  }

  async clear(key: string): Promise<void> {
    this.refusals.forget(key);
    await this.pool.query({
      name: 'rate-limit-clear',
      text: 'delete from rate_limits where key = $1',
      values: [storedKey(key)],
    });
  }
}

/**
 * Registers `@fastify/rate-limit` (with the ceiling on every route registered from now on, when
 * there is one) and decorates the server with `limits`. Health checks, metrics and the API
 * documentation are registered before, and so are never limited.
 */
export async function installRateLimits(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  const { pool, ceiling } = options;
  const logger = app.log;
  const refusals = new Refusals();
  const memoryBackoffs: MemoryBackoff[] = [];
  const shared = pool ? new SharedCeilingStore(pool, logger, refusals) : undefined;
  const off = { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false };
  await app.register(fastifyRateLimit, {
    global: ceiling !== undefined,
    max: ceiling?.max,
    timeWindow: (ceiling?.windowSeconds ?? 60) * 1000,
    hook: 'onRequest',
    keyGenerator: (request) => `ceiling:${clientKey(request)}`,
    // Without a store of ours, the plugin's own: an LRU in memory.
    ...(shared
      ? {
          store: function SharedStore() {
            return shared;
          } as unknown as new () => WindowStore,
        }
      : {}),
    cache: MEMORY_KEYS,
    // The ceiling's store cannot fail a request (a failed share is retried); the limits below can.
    skipOnError: false,
    addHeaders: { ...off, 'retry-after': true },
    addHeadersOnExceeding: off,
    errorResponseBuilder: (_request, context) =>
      tooManyRequests('Too many requests from this address', context.ttl),
  });

  const purge = setInterval(() => {
    const now = Date.now();
    refusals.purge(now);
    shared?.purge(now);
    for (const backoff of memoryBackoffs) backoff.purge(now);
    pool
      ?.query({ name: 'rate-limit-purge', text: 'delete from rate_limits where expires_at < now()' })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not delete expired rate-limit rows'));
  }, PURGE_MS).unref();
  app.addHook('onClose', async () => {
    clearInterval(purge);
    shared?.close();
  });

  app.decorate('limits', {
    perAddress(name, limit, what) {
      const check = app.createRateLimit({
        max: limit.max,
        timeWindow: limit.windowSeconds * 1000,
        keyGenerator: (request) => `${name}:${clientKey(request)}`,
      });
      return async (request) => {
        const result = await check(request);
        if (!result.isAllowed && result.isExceeded) throw tooManyRequests(what, result.ttl);
      };
    },
    backoff(name, policy, what) {
      const store = pool ? new DatabaseBackoff(pool, policy, refusals) : new MemoryBackoff(policy);
      if (store instanceof MemoryBackoff) memoryBackoffs.push(store);
      return {
        async attempt(key) {
          const wait = await store.attempt(`${name}:${key}`, Date.now());
          if (wait > 0) throw tooManyRequests(what, wait);
        },
        async clear(key) {
          await store.clear(`${name}:${key}`);
        },
      };
    },
  } satisfies Limits);
}
