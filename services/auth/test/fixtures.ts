import { randomUUID } from 'node:crypto';
import { createServiceHarness, type ServiceHarness } from '@ticketing/common/testing';
import { authService, type AuthSettings } from '../src/service.ts';

/**
 * Limits no test of another rule comes near (a file signs up dozens of users from one address);
 * rate-limits.test.ts sets them small.
 */
export const ROOMY_LIMITS: Omit<AuthSettings, 'deviceCookieMaxAgeSeconds'> = {
  signInPerAddress: { max: 10_000, windowSeconds: 600 },
  signInPerAccount: { freeAttempts: 1_000, maxDelaySeconds: 300 },
  signInPerDevice: { freeAttempts: 1_000, maxDelaySeconds: 300 },
  signUpPerAddress: { max: 10_000, windowSeconds: 3_600 },
};

export const startAuth = (): Promise<ServiceHarness> => createServiceHarness(authService(ROOMY_LIMITS));

export const PASSWORD = 'correct horse battery';

/** An email nobody has used yet in this test database. */
export const aNewEmail = () => `user-${randomUUID()}@example.test`;

export const post = (t: ServiceHarness, url: string, payload?: unknown, cookie?: string) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: cookie ? { cookie } : {},
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

/** Signs a (new, by default) user up through the API; returns the user and their session cookie. */
export async function aUser(t: ServiceHarness, credentials: { email?: string; password?: string } = {}) {
  const email = credentials.email ?? aNewEmail();
  const password = credentials.password ?? PASSWORD;
  const response = await post(t, '/api/users/signup', { email, password });
  if (response.statusCode !== 201) throw new Error(`could not sign up: ${response.body}`);
  const session = response.cookies.find((c) => c.name === 'session');
  if (!session) throw new Error('sign-up set no session cookie');
  return {
    user: response.json<{ id: string; email: string }>(),
    password,
    cookie: `session=${session.value}`,
  };
}

export const sessionCookie = (response: { cookies: { name: string }[] }) =>
  response.cookies.find((c) => c.name === 'session') as
    | {
        name: string;
        value: string;
        httpOnly?: boolean;
        sameSite?: string;
        path?: string;
        maxAge?: number;
        expires?: Date;
      }
    | undefined;
