import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { aNewEmail, aUser, post, sessionCookie, startAuth } from './fixtures.ts';

describe('POST /api/users/signin', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());
  const signin = (payload: unknown) => post(t, '/api/users/signin', payload);
  const invalidCredentials = { errors: [{ message: 'Invalid credentials' }] };

  it('fails when an email that does not exist is supplied', async () => {
    const response = await signin({ email: aNewEmail(), password: 'whatever password' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(invalidCredentials);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('fails when an incorrect password is supplied', async () => {
    const { user } = await aUser(t);
    const response = await signin({ email: user.email, password: 'not the password' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(invalidCredentials);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('answers an unknown email and a wrong password with byte-identical responses', async () => {
    const { user } = await aUser(t);
    const wrongPassword = await signin({ email: user.email, password: 'not the password' });
    const unknownEmail = await signin({ email: aNewEmail(), password: 'not the password' });
    expect(unknownEmail.statusCode).toBe(wrongPassword.statusCode);
    expect(unknownEmail.rawPayload.equals(wrongPassword.rawPayload)).toBe(true);
    expect(unknownEmail.headers['content-type']).toBe(wrongPassword.headers['content-type']);
    expect(unknownEmail.headers['content-length']).toBe(wrongPassword.headers['content-length']);
  });

  it('responds with a cookie when given valid credentials', async () => {
    const { user, password } = await aUser(t);
    const response = await signin({ email: user.email, password });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(user);
    expect(sessionCookie(response)).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

    const me = await t.app.inject({
      url: '/api/users/currentuser',
      headers: { cookie: `session=${sessionCookie(response)!.value}` },
    });
    expect(me.json()).toEqual({ currentUser: user });
  });

  it('matches the email whatever its case', async () => {
    const { user, password } = await aUser(t);
    const response = await signin({ email: user.email.toUpperCase(), password });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(user);
  });

  it('returns 400 for a missing field, an invalid email or an extra field', async () => {
    const { user, password } = await aUser(t);
    expect((await signin({ email: user.email })).statusCode).toBe(400);
    expect((await signin({ password })).statusCode).toBe(400);
    expect((await signin({ email: 'not an email', password })).statusCode).toBe(400);
    expect((await signin({ email: user.email, password, remember: true })).statusCode).toBe(400);
  });
});
