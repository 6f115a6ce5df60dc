import { createHmac, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, sessionLifetimesOf, SessionSettings } from '../src/config/config.ts';
import { createSessionIssuer, sessionPlugin, SESSION_COOKIE } from '../src/http/session.ts';
import { SessionRevocations } from '../src/sessions/revocations.ts';

const jwtKey = 'session-test-key-that-is-long-enough-012345';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const lifetimes = { idleSeconds: 30 * 60, absoluteSeconds: 7 * 24 * 3600 };
const user = { id: randomUUID(), email: 'buyer@example.test' };

/** A clock the tests move; sessions begin at its start. */
let clock = Date.parse('2026-11-21T16:00:00.123Z');
const now = () => clock;

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A token signed by hand, to try what the issuer would never produce. */
function handMade(header: object, claims: object, key = jwtKey): string {
  const body = `${base64url(header)}.${base64url(claims)}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}
const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
const seconds = (ms: number) => Math.floor(ms / 1000);

describe('session tokens', () => {
  const revocations = new SessionRevocations();
  const issuer = createSessionIssuer({
    jwtKey,
    secureCookies: false,
    sessionLifetimes: lifetimes,
    revocations,
    now,
  });
  const sessionStart = () => ({ id: randomUUID(), startedAt: clock });
  const valid = (more: object = {}) => ({
    sub: user.id,
    email: user.email,
    sid: randomUUID(),
    started: clock,
    iat: seconds(clock),
    exp: seconds(clock) + 60,
    ...more,
  });

  it('names the session and when it began, and expires after the idle timeout', async () => {
    const session = sessionStart();
    const token = await issuer.sign(user, session);
    expect(claimsOf(token)).toEqual({
      sub: user.id,
      email: user.email,
      sid: session.id,
      started: session.startedAt,
      iat: seconds(clock),
      exp: seconds(clock + 30 * MINUTE),
    });
    expect(issuer.check(token)).toEqual({
      id: session.id,
      user,
      startedAt: session.startedAt,
      expiresAt: seconds(clock + 30 * MINUTE) * 1000,
    });
    expect(await issuer.verify(token)).toEqual(user);
  });

  it('refuses a token left idle for the idle timeout', async () => {
    const start = clock;
    const token = await issuer.sign(user, sessionStart());
    try {
      clock = start + 29 * MINUTE;
      expect(issuer.check(token)).not.toBeNull();
      clock = start + 30 * MINUTE;
      expect(issuer.check(token)).toBeNull();
    } finally {
      clock = start;
    }
  });

  it('refuses a token of a session older than the absolute timeout, whatever its expiry says', () => {
    const token = handMade({ alg: 'HS256' }, valid({ started: clock - 7 * DAY }));
    expect(issuer.check(token)).toBeNull();
    expect(
      issuer.check(handMade({ alg: 'HS256' }, valid({ started: clock - 7 * DAY + 1000 }))),
    ).not.toBeNull();
  });

  it('refuses a revoked session, and the sessions of a user begun before a sign-out everywhere', async () => {
    const one = sessionStart();
    const token = await issuer.sign(user, one);
    revocations.add({ userId: user.id, sessionId: one.id, revokedAt: clock, expiresAt: clock + 7 * DAY });
    expect(issuer.check(token)).toBeNull();

    const other = { id: randomUUID(), email: 'other@example.test' };
    const before = await issuer.sign(other, { id: randomUUID(), startedAt: clock - 1 });
    const after = await issuer.sign(other, { id: randomUUID(), startedAt: clock });
    revocations.add({ userId: other.id, revokedAt: clock, expiresAt: clock + 7 * DAY });
    expect(issuer.check(before)).toBeNull();
    expect(issuer.check(after)).not.toBeNull();
  });

  it.each([
    ['expired', handMade({ alg: 'HS256', typ: 'JWT' }, valid({ exp: seconds(clock) }))],
    ['signed with another key', handMade({ alg: 'HS256' }, valid(), 'another-key')],
    ['unsigned (alg none)', `${base64url({ alg: 'none' })}.${base64url(valid())}.`],
    ['for a subject that is not a uuid', handMade({ alg: 'HS256' }, valid({ sub: 'admin' }))],
    ['without an email', handMade({ alg: 'HS256' }, valid({ email: undefined }))],
    ['without an expiry', handMade({ alg: 'HS256' }, valid({ exp: undefined }))],
    [
      'without a session id (issued before sessions had one)',
      handMade({ alg: 'HS256' }, valid({ sid: undefined })),
    ],
    ['with a session id that is not a uuid', handMade({ alg: 'HS256' }, valid({ sid: '1' }))],
    ['without the start of its session', handMade({ alg: 'HS256' }, valid({ started: undefined }))],
    ['with a start that is not a time', handMade({ alg: 'HS256' }, valid({ started: 'yesterday' }))],
  ])('refuses a token %s', async (_case, token) => {
    expect(issuer.check(token)).toBeNull();
    expect(await issuer.verify(token)).toBeNull();
  });

  it('accepts a token of the same key and shape from another issuer (auth signs, every service verifies)', async () => {
    const token = handMade({ alg: 'HS256', typ: 'JWT' }, valid());
    expect(await issuer.verify(token)).toEqual(user);
  });
});

describe('the session plugin', () => {
  const revocations = new SessionRevocations();
  const app = Fastify();
  const issuer = createSessionIssuer({ jwtKey, secureCookies: false, sessionLifetimes: lifetimes, now });
  beforeAll(async () => {
    await app.register(sessionPlugin, {
      jwtKey,
      secureCookies: false,
      sessionLifetimes: lifetimes,
      revocations,
      now,
    });
    app.get('/me', async (request) => ({
      user: request.currentUser,
      session: request.currentSession?.id ?? null,
    }));
    app.post('/signout', async (_request, reply) => {
      app.session.end(reply);
      return {};
    });
    await app.ready();
  });
  afterAll(() => app.close());

  const start = clock;
  const at = async <T>(time: number, run: () => Promise<T>) => {
    clock = time;
    try {
      return await run();
    } finally {
      clock = start;
    }
  };
  const me = (token: string, url = '/me') =>
    app.inject({ method: url === '/me' ? 'GET' : 'POST', url, cookies: { [SESSION_COOKIE]: token } });
  const renewedCookie = (response: Awaited<ReturnType<typeof me>>) =>
    response.cookies.find((cookie) => cookie.name === SESSION_COOKIE);

  it('leaves a token alone in the first half of its idle window', async () => {
    const token = await issuer.sign(user, { id: randomUUID(), startedAt: start });
    const response = await at(start + 14 * MINUTE, () => me(token));
    expect(response.json()).toMatchObject({ user });
    expect(renewedCookie(response)).toBeUndefined();
  });

  it('renews a token past half of its idle window: same session, a new idle window', async () => {
    const session = { id: randomUUID(), startedAt: start };
    const token = await issuer.sign(user, session);
    const later = start + 16 * MINUTE;
    const response = await at(later, () => me(token));
    expect(response.json()).toEqual({ user, session: session.id });
    const renewed = renewedCookie(response)!;
    expect(renewed).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(claimsOf(renewed.value)).toEqual({
      sub: user.id,
      email: user.email,
      sid: session.id,
      started: session.startedAt,
      iat: seconds(later),
      exp: seconds(later + 30 * MINUTE),
    });
    expect(renewed.maxAge).toBe(30 * 60 - 1); // what is left of it, in whole seconds
    // The old token stays good until its own expiry; the new one, until the new one's.
    expect((await at(start + 40 * MINUTE, () => me(renewed.value))).json()).toMatchObject({ user });
    expect((await at(start + 40 * MINUTE, () => me(token))).json()).toMatchObject({ user: null });
  });

  it('renews no further than the absolute limit, and not at all at it', async () => {
    const session = { id: randomUUID(), startedAt: start - 7 * DAY + 20 * MINUTE };
    const token = handMade(
      { alg: 'HS256' },
      {
        sub: user.id,
        email: user.email,
        sid: session.id,
        started: session.startedAt,
        iat: seconds(start),
        exp: seconds(start + 10 * MINUTE),
      },
    );
    const renewed = renewedCookie(await at(start + 5 * MINUTE, () => me(token)))!;
    expect(claimsOf(renewed.value).exp).toBe(seconds(session.startedAt + 7 * DAY));
    const atLimit = await at(start + 15 * MINUTE, () => me(renewed.value));
    expect(atLimit.json()).toMatchObject({ user });
    expect(renewedCookie(atLimit)).toBeUndefined();
    expect((await at(start + 20 * MINUTE, () => me(renewed.value))).json()).toMatchObject({ user: null });
  });

  it('never renews a revoked or expired session', async () => {
    const session = { id: randomUUID(), startedAt: start };
    const token = await issuer.sign(user, session);
    revocations.add({ userId: user.id, sessionId: session.id, revokedAt: start, expiresAt: start + 7 * DAY });
    const revoked = await at(start + 20 * MINUTE, () => me(token));
    expect(revoked.json()).toEqual({ user: null, session: null });
    expect(revoked.headers['set-cookie']).toBeUndefined();

    const idle = await issuer.sign(user, { id: randomUUID(), startedAt: start });
    const expired = await at(start + 31 * MINUTE, () => me(idle));
    expect(expired.json()).toEqual({ user: null, session: null });
    expect(expired.headers['set-cookie']).toBeUndefined();
  });

  it('lets a route that ends the session have the last word over a renewal', async () => {
    const token = await issuer.sign(user, { id: randomUUID(), startedAt: start });
    const response = await at(start + 20 * MINUTE, () => me(token, '/signout'));
    expect([response.headers['set-cookie']].flat()).toHaveLength(1);
    expect(renewedCookie(response)?.value).toBe('');
  });
});

describe('session settings', () => {
  const settings = (env: Record<string, string>) =>
    sessionLifetimesOf(loadConfig(Type.Object(SessionSettings), env));

  it('default to 30 minutes idle and 7 days at most', () => {
    expect(settings({})).toEqual({ idleSeconds: 1800, absoluteSeconds: 604_800 });
    expect(settings({ SESSION_IDLE_SECONDS: '600', SESSION_MAX_AGE_SECONDS: '3600' })).toEqual({
      idleSeconds: 600,
      absoluteSeconds: 3600,
    });
  });

  it('refuses an idle timeout above the maximum age, and a maximum age above 30 days', () => {
    expect(() => settings({ SESSION_IDLE_SECONDS: '7200', SESSION_MAX_AGE_SECONDS: '3600' })).toThrow(
      /SESSION_IDLE_SECONDS must not exceed SESSION_MAX_AGE_SECONDS/,
    );
    expect(() => settings({ SESSION_MAX_AGE_SECONDS: String(31 * 24 * 3600) })).toThrow(ConfigError);
    expect(() => settings({ SESSION_IDLE_SECONDS: '0' })).toThrow(/SESSION_IDLE_SECONDS/);
  });
});
