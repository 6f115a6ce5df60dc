/**
 * The unknown-email path must spend the same KDF work as the wrong-password path, or response
 * times would reveal which emails are registered. Asserted on the calls rather than on a clock,
 * so the test cannot flake on a busy machine.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import * as passwords from '../src/domain/passwords.ts';
import { aNewEmail, aUser, post, startAuth } from './fixtures.ts';

vi.mock('../src/domain/passwords.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/domain/passwords.ts')>();
  return { ...actual, verifyPassword: vi.fn(actual.verifyPassword) };
});

describe('POST /api/users/signin timing', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startAuth()));
  afterAll(() => t.close());
  const verify = vi.mocked(passwords.verifyPassword);

  it('still runs the KDF, against a dummy hash with the current parameters, for an unknown email', async () => {
    verify.mockClear();
    const response = await post(t, '/api/users/signin', { email: aNewEmail(), password: 'some password' });
    expect(response.statusCode).toBe(400);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0]![0]).toBe('some password');
    expect(verify.mock.calls[0]![1]).toBe(await passwords.dummyPasswordHash());
    expect(verify.mock.calls[0]![1]).toMatch(/^scrypt\$16384\$8\$1\$/);
  });

  it('runs the KDF exactly once for a wrong password too', async () => {
    const { user } = await aUser(t);
    verify.mockClear();
    await post(t, '/api/users/signin', { email: user.email, password: 'not the password' });
    expect(verify).toHaveBeenCalledTimes(1);
  });
});
