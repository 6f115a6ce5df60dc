/**
 * The signed session every service verifies and only auth issues: a JWT (HS256, `jose`) in an
 * httpOnly, SameSite=Lax cookie, Secure outside development. Services never call auth to check a
 * session; the shared key is enough, which keeps auth off every request's path.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import { SignJWT, jwtVerify } from 'jose';
import { NotAuthorizedError } from '../errors.ts';

export interface CurrentUser {
  id: string;
  email: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    currentUser: CurrentUser | null;
  }
  interface FastifyInstance {
    session: SessionIssuer;
  }
}

export const SESSION_COOKIE = 'session';
const SESSION_TTL_SECONDS = 7 * 24 * 3600;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface SessionOptions {
  jwtKey: string;
  /** Send the cookie over HTTPS only; on everywhere but local development. */
  secureCookies: boolean;
}

export interface SessionIssuer {
  sign(user: CurrentUser): Promise<string>;
  verify(token: string): Promise<CurrentUser | null>;
  /** Sets the session cookie for `user` on the reply. */
  start(reply: FastifyReply, user: CurrentUser): Promise<void>;
  end(reply: FastifyReply): void;
}

export function createSessionIssuer({ jwtKey, secureCookies }: SessionOptions): SessionIssuer {
  // Imported once: handed the raw bytes, jose imports the key again on every call (about a third
  // of a verification's CPU).
  const key = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(jwtKey),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: secureCookies };
  const issuer: SessionIssuer = {
    async sign(user) {
      return new SignJWT({ email: user.email })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(user.id)
        .setIssuedAt()
        .setExpirationTime(`${SESSION_TTL_SECONDS}s`)
        .sign(await key);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, await key, { algorithms: ['HS256'] });
        // Every service stores user ids in uuid columns: anything else is not a session of ours.
        if (typeof payload.sub !== 'string' || !UUID.test(payload.sub) || typeof payload.email !== 'string')
          return null;
        return { id: payload.sub, email: payload.email };
      } catch {
        return null; // expired, tampered or signed with another key: simply not signed in
      }
    },
    async start(reply, user) {
      reply.setCookie(SESSION_COOKIE, await issuer.sign(user), {
        ...cookieOptions,
        maxAge: SESSION_TTL_SECONDS,
      });
    },
    end(reply) {
      reply.clearCookie(SESSION_COOKIE, cookieOptions);
    },
  };
  return issuer;
}

/** Reads the session cookie on every request into `request.currentUser` (null when absent). */
export const sessionPlugin = fp<SessionOptions>(
  async (app, options) => {
    await app.register(cookie);
    const issuer = createSessionIssuer(options);
    app.decorate('session', issuer);
    app.decorateRequest('currentUser', null);
    app.addHook('onRequest', async (request) => {
      const token = request.cookies[SESSION_COOKIE];
      request.currentUser = token ? await issuer.verify(token) : null;
    });
  },
  { name: 'ticketing-session' },
);

/** Route guard: 401 unless signed in. Returns the user so handlers need no non-null assertion. */
export function requireUser(request: FastifyRequest): CurrentUser {
  if (!request.currentUser) throw new NotAuthorizedError();
  return request.currentUser;
}
