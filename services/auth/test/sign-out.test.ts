import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { aUser, post, sessionCookie, startAuth } from './fixtures.ts';

describe('POST /api/users/signout', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());

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
});
