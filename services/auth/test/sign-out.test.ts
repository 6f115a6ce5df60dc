import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { aUser, post, sessionCookie, startAuth } from './fixtures.ts';

const WEEK_MS = 7 * 24 * 3600 * 1000;
const claimsOf = (cookie: string) =>
  JSON.parse(Buffer.from(cookie.split('.')[1]!, 'base64url').toString()) as {
    sub: string;
    sid: string;
    started: number;
  };

describe('POST /api/users/signout', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());
  const currentUser = async (cookie: string) =>
    (await t.app.inject({ url: '/api/users/currentuser', headers: { cookie } })).json<{
      currentUser: unknown;
    }>().currentUser;
  const revokedEvents = async (userId: string) =>
    (await t.outbox('session:revoked')).filter((event) => event.data.userId === userId);

  it('clears the cookie after signing out', async () => {
    const { cookie } = await aUser(t);
    const response = await post(t, '/api/users/signout', {}, cookie);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({});
    const cleared = sessionCookie(response);
    expect(cleared).toMatchObject({ value: '', path: '/', httpOnly: true, sameSite: 'Lax', maxAge: 0 });
    expect(cleared!.expires!.getTime()).toBe(0);
  });

  it('succeeds without a session too, and without a body', async () => {
    const response = await post(t, '/api/users/signout');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({});
    expect(sessionCookie(response)?.value).toBe('');
  });

  it('ends the session: a kept copy of its cookie is refused from then on', async () => {
    const { user, cookie } = await aUser(t);
    expect(await currentUser(cookie)).toEqual(user);
    await post(t, '/api/users/signout', {}, cookie);
    expect(await currentUser(cookie)).toBeNull();
  });

  it('publishes session:revoked for that session through the outbox, once', async () => {
    const { user, cookie } = await aUser(t);
    const { sid, started } = claimsOf(cookie);
    await post(t, '/api/users/signout', {}, cookie);
    await post(t, '/api/users/signout', {}, cookie); // the refused cookie revokes nothing more
    const events = await revokedEvents(user.id);
    expect(events.map((event) => event.data)).toEqual([
      {
        userId: user.id,
        sessionId: sid,
        revokedAt: expect.any(String),
        expiresAt: new Date(started + WEEK_MS).toISOString(),
      },
    ]);
    const { rows } = await t.database.pool.query('select revoked_at from sessions where id = $1', [sid]);
    expect(rows[0].revoked_at).toEqual(new Date(events[0]!.data.revokedAt));
  });

  it("ends only this session: the user's other sessions go on", async () => {
    const { user, password, cookie } = await aUser(t);
    const elsewhere = sessionCookie(await post(t, '/api/users/signin', { email: user.email, password }))!;
    await post(t, '/api/users/signout', {}, cookie);
    expect(await currentUser(`session=${elsewhere.value}`)).toEqual(user);
  });

  it('refuses the signed-out cookie after a restart too', async () => {
    const { cookie } = await aUser(t);
    const other = await aUser(t);
    await post(t, '/api/users/signout', {}, cookie);
    await t.restart();
    expect(await currentUser(cookie)).toBeNull();
    expect(await currentUser(other.cookie)).toEqual(other.user);
  });
});

describe('POST /api/users/signout-everywhere', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());
  const currentUser = async (cookie: string) =>
    (await t.app.inject({ url: '/api/users/currentuser', headers: { cookie } })).json<{
      currentUser: unknown;
    }>().currentUser;
  const signIn = async (credentials: { email: string; password: string }) =>
    `session=${sessionCookie(await post(t, '/api/users/signin', credentials))!.value}`;

  it('answers 401 without a session', async () => {
    const response = await post(t, '/api/users/signout-everywhere');
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ errors: [{ message: 'Not authorized' }] });
  });

  it("ends every session of the user begun until then, and no other user's", async () => {
    const { user, password, cookie } = await aUser(t);
    const phone = await signIn({ email: user.email, password });
    const laptop = await signIn({ email: user.email, password });
    const other = await aUser(t);

    const response = await post(t, '/api/users/signout-everywhere', {}, phone);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({});
    expect(sessionCookie(response)?.value).toBe('');
    for (const each of [cookie, phone, laptop]) expect(await currentUser(each)).toBeNull();
    expect(await currentUser(other.cookie)).toEqual(other.user);

    // One event covers them all: every session of the user begun before `revokedAt`.
    const events = (await t.outbox('session:revoked')).filter((event) => event.data.userId === user.id);
    expect(events).toHaveLength(1);
    const { revokedAt, expiresAt } = events[0]!.data;
    expect(events[0]!.data).toEqual({ userId: user.id, revokedAt, expiresAt });
    expect(Date.parse(expiresAt) - Date.parse(revokedAt)).toBe(WEEK_MS);
    const { rows } = await t.database.pool.query(
      'select count(*)::int as open from sessions where user_id = $1 and revoked_at is null',
      [user.id],
    );
    expect(rows[0].open).toBe(0);

    // A sign-in afterwards begins a session that goes on.
    const later = await signIn({ email: user.email, password });
    expect(await currentUser(later)).toEqual(user);
    await t.restart();
    expect(await currentUser(laptop)).toBeNull();
    expect(await currentUser(later)).toEqual(user);
  });
});

describe('sessions begun by signing up and in', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());

  it('begins a new session, with a new id, at every sign-in, and records it', async () => {
    const { user, password, cookie } = await aUser(t);
    const again = sessionCookie(await post(t, '/api/users/signin', { email: user.email, password }))!.value;
    const [first, second] = [claimsOf(cookie), claimsOf(again)];
    expect(first.sid).not.toBe(second.sid);
    const { rows } = await t.database.pool.query(
      'select id, user_id, created_at, expires_at, revoked_at from sessions where user_id = $1 order by created_at',
      [user.id],
    );
    expect(rows).toEqual([
      {
        id: first.sid,
        user_id: user.id,
        created_at: new Date(first.started),
        expires_at: new Date(first.started + WEEK_MS),
        revoked_at: null,
      },
      {
        id: second.sid,
        user_id: user.id,
        created_at: new Date(second.started),
        expires_at: new Date(second.started + WEEK_MS),
        revoked_at: null,
      },
    ]);
  });
});
