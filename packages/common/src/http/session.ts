/**
 * The signed session every service verifies and only auth starts: a JWT (HS256, `fast-jwt`) in an
 * httpOnly, SameSite=Lax cookie, Secure outside development. Services never call auth to check a
 * session; the shared key is enough, which keeps auth off every request's path.
 *
 * A token names its session (`sid`, a random uuid the auth service records) and when the session
 * began (`started`, in milliseconds, the auth service's clock), besides the user (`sub`, `email`)
 * and the token's own `iat` and `exp`. Three things end a session, and every service checks all
 * three on every request, in memory:
 *
 * - idleness: `exp` is at most the idle timeout after the token was issued. A request on a token
 *   past half of its idle window gets the same session back with a later `exp` (same `sid` and
 *   `started`), from whichever service answers it, since every service holds the key: an active
 *   session slides without a call to auth;
 * - age: no token is valid, nor renewed, past `started` plus the absolute timeout;
 * - revocation: a session signed out (or signed out everywhere) is refused by every service once
 *   `session:revoked` reaches it (sessions/revocations.ts), normally within milliseconds. A
 *   revoked or expired session is never renewed, since only a token that passed all three checks
 *   is.
 *
 * `fast-jwt` computes the HMAC with node:crypto in the request's own turn of the event loop; `jose`,
 * used before, goes through WebCrypto, whose every call is a job on the thread pool: on the on-sale
 * rush that was a tenth of the orders replica's CPU.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import { createSigner, createVerifier } from 'fast-jwt';
import { NotAuthorizedError } from '../errors.ts';
import { SessionRevocations } from '../sessions/revocations.ts';

export interface CurrentUser {
  id: string;
  email: string;
}

/** A session as a verified token describes it. */
export interface CurrentSession {
  /** The session's id (`sid`): the same for every token of the session, renewed or not. */
  id: string;
  user: CurrentUser;
  /** When the session began, in milliseconds since the epoch. */
  startedAt: number;
  /** When this token expires (its `exp`), in milliseconds since the epoch. */
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    currentUser: CurrentUser | null;
    /** The session the request's cookie names, when it is valid; null otherwise. */
    currentSession: CurrentSession | null;
  }
  interface FastifyInstance {
    session: SessionIssuer;
  }
}

export const SESSION_COOKIE = 'session';

/** How long a session lasts: idle (without a request), and at most (however active). */
export interface SessionLifetimes {
  idleSeconds: number;
  absoluteSeconds: number;
}

/** 30 minutes without a request, 7 days at most. */
export const DEFAULT_SESSION_LIFETIMES: SessionLifetimes = {
  idleSeconds: 30 * 60,
  absoluteSeconds: 7 * 24 * 3600,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SessionOptions {
  jwtKey: string;
  /** Send the cookie over HTTPS only; on everywhere but local development. */
  secureCookies: boolean;
  /** Default: DEFAULT_SESSION_LIFETIMES. Every service must have the same ones, like the key. */
  sessionLifetimes?: SessionLifetimes;
  /** The sessions to refuse; default: a registry of the plugin's own, empty until fed. */
  revocations?: SessionRevocations;
  /** The clock, in milliseconds (tests). */
  now?: () => number;
}

/** The claims a session token carries. */
interface SessionClaims {
  sub: string;
  email: string;
  sid: string;
  started: number;
  iat: number;
  exp: number;
}

export interface SessionIssuer {
  readonly lifetimes: SessionLifetimes;
  readonly revocations: SessionRevocations;
  /** Whether cookies go over HTTPS only (`Secure`): the session's do, and so should a route's own. */
  readonly secureCookies: boolean;
  /**
   * A key for another use of the shared key, named by `purpose`: HMAC-SHA-256 of `purpose` under
   * it. What is signed for one purpose does not verify for another, nor as a session.
   */
  keyFor(purpose: string): Buffer;
  /**
   * A token for `user`'s session `session` (default: a new session id, begun now; only tests and
   * benchmarks sign sessions the auth service did not record).
   */
  sign(user: CurrentUser, session?: { id: string; startedAt: number }): Promise<string>;
  /** The session of a valid token: well signed, neither idle nor too old, not revoked. */
  check(token: string): CurrentSession | null;
  /** The user of a valid token (see `check`). */
  verify(token: string): Promise<CurrentUser | null>;
  /** Sets the cookie of `user`'s new session on the reply. */
  start(reply: FastifyReply, user: CurrentUser, session: { id: string; startedAt: number }): Promise<void>;
  end(reply: FastifyReply): void;
  /**
   * Sets a later expiry for `session` on the reply when it is past half of its idle window and its
   * absolute limit leaves room: the same session, with a new `iat` and `exp`. Only for a session
   * `check` has just accepted.
   */
  renew(reply: FastifyReply, session: CurrentSession): void;
}

export function createSessionIssuer({
  jwtKey,
  secureCookies,
  sessionLifetimes = DEFAULT_SESSION_LIFETIMES,
  revocations = new SessionRevocations(),
  now = Date.now,
}: SessionOptions): SessionIssuer {
  const idleMs = sessionLifetimes.idleSeconds * 1000;
  const absoluteMs = sessionLifetimes.absoluteSeconds * 1000;
  const signToken = createSigner({ key: jwtKey, algorithm: 'HS256' });
  const verifyToken = createVerifier({
    key: jwtKey,
    algorithms: ['HS256'],
    requiredClaims: ['sub', 'sid', 'started', 'iat', 'exp'],
    // Checked below against `now`, with the session's own limits.
    ignoreExpiration: true,
    ignoreNotBefore: true,
  });
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: secureCookies };

  /** The token of a session, issued at `issuedAt`: it expires after the idle timeout or at the absolute limit. */
  const tokenFor = (user: CurrentUser, session: { id: string; startedAt: number }, issuedAt: number) => {
    const exp = Math.floor(Math.min(issuedAt + idleMs, session.startedAt + absoluteMs) / 1000);
    const claims: SessionClaims = {
      sub: user.id,
      email: user.email,
      sid: session.id,
      started: session.startedAt,
      iat: Math.floor(issuedAt / 1000),
      exp,
    };
    return { token: signToken(claims), expiresAt: exp * 1000 };
  };
  const setCookie = (reply: FastifyReply, token: string, expiresAt: number, at: number) => {
    reply.setCookie(SESSION_COOKIE, token, {
      ...cookieOptions,
      maxAge: Math.max(0, Math.floor((expiresAt - at) / 1000)),
    });
  };

  const issuer: SessionIssuer = {
    lifetimes: sessionLifetimes,
    revocations,
    secureCookies,
    keyFor(purpose) {
      return createHmac('sha256', jwtKey).update(purpose).digest();
    },
    async sign(user, session = { id: randomUUID(), startedAt: now() }) {
      return tokenFor(user, session, now()).token;
    },
    check(token) {
      let claims: Partial<Record<keyof SessionClaims, unknown>>;
      try {
        claims = verifyToken(token) as typeof claims;
      } catch {
        return null; // tampered, malformed, signed with another key, or without a session id
      }
      const { sub, email, sid, started, exp } = claims;
      // Every service stores user ids in uuid columns: anything else is not a session of ours.
      if (typeof sub !== 'string' || !UUID.test(sub) || typeof email !== 'string') return null;
      if (typeof sid !== 'string' || !UUID.test(sid)) return null;
      if (typeof started !== 'number' || !Number.isFinite(started)) return null;
      if (typeof exp !== 'number' || !Number.isFinite(exp)) return null;
      const at = now();
      const expiresAt = exp * 1000;
      if (at >= expiresAt) return null; // idle (or at its limit) since the token was issued
      if (at >= started + absoluteMs) return null; // too old, however active
      if (revocations.isRevoked(sub, sid, started)) return null;
      return { id: sid, user: { id: sub, email }, startedAt: started, expiresAt };
    },
    async verify(token) {
      return issuer.check(token)?.user ?? null;
    },
    async start(reply, user, session) {
      const at = now();
      const { token, expiresAt } = tokenFor(user, session, at);
      setCookie(reply, token, expiresAt, at);
    },
    end(reply) {
      reply.clearCookie(SESSION_COOKIE, cookieOptions);
    },
    renew(reply, session) {
      const at = now();
      if (session.expiresAt - at >= idleMs / 2) return;
      const renewed = tokenFor(session.user, { id: session.id, startedAt: session.startedAt }, at);
      if (renewed.expiresAt <= session.expiresAt) return; // at its absolute limit: nothing to extend
      setCookie(reply, renewed.token, renewed.expiresAt, at);
    },
  };
  return issuer;
}

/**
 * Reads the session cookie on every request into `request.currentSession` and
 * `request.currentUser` (null when absent or not valid), and renews a valid one past half of its
 * idle window (the new cookie goes with the response; a route that ends or starts a session
 * replaces it).
 */
export const sessionPlugin = fp<SessionOptions>(
  async (app, options) => {
    await app.register(cookie);
    const issuer = createSessionIssuer(options);
    app.decorate('session', issuer);
    app.decorateRequest('currentUser', null);
    app.decorateRequest('currentSession', null);
    // Synchronous: most reads come without a session, and none needs a promise for it.
    app.addHook('onRequest', (request, reply, done) => {
      const token = request.cookies[SESSION_COOKIE];
      if (!token) {
        done();
        return;
      }
      const session = issuer.check(token);
      if (session) {
        request.currentSession = session;
        request.currentUser = session.user;
        issuer.renew(reply, session);
      }
      done();
    });
  },
  { name: 'ticketing-session' },
);

/** Route guard: 401 unless signed in. Returns the user so handlers need no non-null assertion. */
export function requireUser(request: FastifyRequest): CurrentUser {
  if (!request.currentUser) throw new NotAuthorizedError();
  return request.currentUser;
}
