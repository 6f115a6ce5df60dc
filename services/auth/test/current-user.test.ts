import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { aUser, startAuth } from './fixtures.ts';

describe('GET /api/users/currentuser', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());
  const currentUser = (cookie?: string) =>
    t.app.inject({ url: '/api/users/currentuser', headers: cookie ? { cookie } : {} });

  it('responds with details about the current user', async () => {
    const { user, cookie } = await aUser(t);
    const response = await currentUser(cookie);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ currentUser: { id: user.id, email: user.email } });
  });

  it('responds with null if not authenticated', async () => {
    const response = await currentUser();
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ currentUser: null });
  });

  it.each([
    ['garbage', 'session=garbage'],
    [
      'a token with a forged signature',
      'session=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZW1haWwiOiJ4QHkueiJ9.AAAA',
    ],
    ['an empty value', 'session='],
  ])('responds with null, not 401, for a cookie that is %s', async (_case, cookie) => {
    const response = await currentUser(cookie);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ currentUser: null });
  });

  it('responds with null once signed out', async () => {
    const { cookie } = await aUser(t);
    const signout = await t.app.inject({ method: 'POST', url: '/api/users/signout', headers: { cookie } });
    const cleared = signout.cookies.find((c) => c.name === 'session')!;
    expect((await currentUser(`session=${cleared.value}`)).json()).toEqual({ currentUser: null });
  });
});

describe('checking the session', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());

  it('reads no table: the revoked sessions are in memory', async () => {
    const { cookie } = await aUser(t);
    await t.app.inject({ method: 'POST', url: '/api/users/signout', headers: { cookie } }); // one revoked
    const { cookie: signedIn } = await aUser(t);
    const queries = vi.spyOn(t.database.pool, 'query');
    const connections = vi.spyOn(t.database.pool, 'connect');
    try {
      for (let i = 0; i < 50; i++) {
        const answer = await t.app.inject({
          url: '/api/users/currentuser',
          headers: { cookie: i % 2 ? cookie : signedIn },
        });
        expect(answer.json<{ currentUser: unknown }>().currentUser === null).toBe(i % 2 === 1);
      }
      expect(queries).not.toHaveBeenCalled();
      expect(connections).not.toHaveBeenCalled();
    } finally {
      queries.mockRestore();
      connections.mockRestore();
    }
  });
});
