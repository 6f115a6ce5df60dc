import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { aNewEmail, aUser, PASSWORD, post, sessionCookie, startAuth } from './fixtures.ts';

describe('POST /api/users/signup', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());
  const signup = (payload: unknown) => post(t, '/api/users/signup', payload);
  const fields = (response: { json: <T>() => T }) =>
    response.json<{ errors: { field?: string }[] }>().errors.map((e) => e.field);

  it('returns 201 and the user on a successful signup', async () => {
    const email = aNewEmail();
    const response = await signup({ email, password: PASSWORD });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email });
  });

  it.each([
    ['not an email', 'test.test.com'],
    ['a missing domain', 'test@'],
    [
      'an email longer than 254 characters',
      `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`,
    ],
    ['an empty string', ''],
    ['a number', 42],
  ])('returns 400 for an invalid email: %s', async (_case, email) => {
    const response = await signup({ email, password: PASSWORD });
    expect(response.statusCode).toBe(400);
    expect(fields(response)).toEqual(['email']);
  });

  it.each([
    ['shorter than 8 characters', 'p'.repeat(7)],
    ['longer than 128 characters', 'p'.repeat(129)],
    ['empty', ''],
  ])('returns 400 for a password %s', async (_case, password) => {
    const response = await signup({ email: aNewEmail(), password });
    expect(response.statusCode).toBe(400);
    expect(fields(response)).toEqual(['password']);
  });

  it('accepts passwords of exactly 8 and 128 characters', async () => {
    expect((await signup({ email: aNewEmail(), password: 'pq7-xr2z' })).statusCode).toBe(201);
    expect((await signup({ email: aNewEmail(), password: 'p'.repeat(128) })).statusCode).toBe(201);
  });

  it.each(['password', 'aaaaaaaa', '12345678', 'iloveyou', 'Password1', 'QWERTYUIOP', 'trustno1'])(
    'refuses the common password %s, in plain words on field password',
    async (password) => {
      const response = await signup({ email: aNewEmail(), password });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        errors: [
          {
            message:
              'password is one of the most common passwords, the first ones attackers try; choose another',
            field: 'password',
          },
        ],
      });
    },
  );

  it('accepts the passwords the tests sign up with', async () => {
    for (const password of [PASSWORD, 'correct horse', 'another password'])
      expect((await signup({ email: aNewEmail(), password })).statusCode, password).toBe(201);
  });

  it('returns 400 with missing email and password', async () => {
    expect(fields(await signup({ email: aNewEmail() }))).toEqual(['password']);
    expect(fields(await signup({ password: PASSWORD }))).toEqual(['email']);
    const empty = await signup({});
    expect(empty.statusCode).toBe(400);
    expect(fields(empty).sort()).toEqual(['email', 'password']);
    expect((await post(t, '/api/users/signup')).statusCode).toBe(400);
  });

  it('rejects an unknown extra field', async () => {
    const response = await signup({ email: aNewEmail(), password: PASSWORD, isAdmin: true });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: [{ message: 'isAdmin is not allowed', field: 'isAdmin' }] });
  });

  it('disallows duplicate emails', async () => {
    const email = aNewEmail();
    expect((await signup({ email, password: PASSWORD })).statusCode).toBe(201);
    const response = await signup({ email, password: 'another password' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: [{ message: 'Email in use', field: 'email' }] });
  });

  it('rejects an email that is already registered, whatever its case', async () => {
    const email = aNewEmail();
    await aUser(t, { email });
    const response = await signup({ email: email.toUpperCase(), password: PASSWORD });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ errors: [{ message: 'Email in use', field: 'email' }] });
  });

  it('stores and returns the email lower-cased', async () => {
    const email = aNewEmail();
    const response = await signup({ email: email.replace('user', 'User').toUpperCase(), password: PASSWORD });
    expect(response.json().email).toBe(email);
    const { rows } = await t.database.pool.query('select email from users where id = $1', [
      response.json().id,
    ]);
    expect(rows[0].email).toBe(email);
  });

  it('stores a hash of the password, never the password, and never returns it', async () => {
    const password = 'a very secret password';
    const response = await signup({ email: aNewEmail(), password });
    expect(response.body).not.toContain(password);
    expect(response.body).not.toContain('scrypt');
    expect(Object.keys(response.json()).sort()).toEqual(['email', 'id']);
    const { rows } = await t.database.pool.query('select password_hash from users where id = $1', [
      response.json().id,
    ]);
    expect(rows[0].password_hash).not.toContain(password);
    expect(rows[0].password_hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  });

  it('gives exactly one 201 when ten signups race for the same email, and no 500', async () => {
    const email = aNewEmail();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        signup({ email: i % 2 ? email : email.toUpperCase(), password: PASSWORD }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 400)).toHaveLength(9);
    expect(statuses.filter((s) => s >= 500)).toHaveLength(0);
    for (const r of responses.filter((r) => r.statusCode === 400)) {
      expect(r.json()).toEqual({ errors: [{ message: 'Email in use', field: 'email' }] });
    }
    const { rows } = await t.database.pool.query('select count(*)::int as n from users where email = $1', [
      email,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('sets a cookie after successful signup', async () => {
    const response = await signup({ email: aNewEmail(), password: PASSWORD });
    expect(response.headers['set-cookie']).toBeDefined();
    expect(sessionCookie(response)?.value).toBeTruthy();
  });

  it('makes the session cookie httpOnly and SameSite=Lax, for the whole site', async () => {
    const cookie = sessionCookie(await signup({ email: aNewEmail(), password: PASSWORD }));
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie!.maxAge).toBeGreaterThan(0);
  });

  it('sets no cookie when the signup fails', async () => {
    const response = await signup({ email: 'nope', password: PASSWORD });
    expect(response.headers['set-cookie']).toBeUndefined();
  });
});
