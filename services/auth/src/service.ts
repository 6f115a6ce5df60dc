/**
 * The auth service: user accounts, their sessions, and the only one to begin a session (every
 * service verifies and renews session cookies with the shared key). It publishes
 * `session:revoked` when a session ends early (signed out), and listens to nothing: nobody else
 * needs users, only the id and email the session carries.
 */
import { fileURLToPath } from 'node:url';
import { Type } from 'typebox';
import { loadConfig, type BackoffPolicy, type ServiceModule, type WindowLimit } from '@ticketing/common';
import { dummyPasswordHash } from './domain/passwords.ts';
import { forgetEndedSessions } from './domain/sessions.ts';
import { deviceCookies } from './entry-points/http/device-cookie.ts';
import { currentUserRoute } from './entry-points/http/current-user.ts';
import { signInRoute } from './entry-points/http/sign-in.ts';
import { signOutRoute } from './entry-points/http/sign-out.ts';
import { signUpRoute } from './entry-points/http/sign-up.ts';
import { UserJson } from './entry-points/http/user-json.ts';

const AuthConfig = Type.Object({
  /** Sign-in attempts per client address, whatever the account. */
  SIGNIN_ADDRESS_LIMIT_MAX: Type.Integer({ minimum: 1, default: 30 }),
  SIGNIN_ADDRESS_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 600 }),
  /** Sign-in attempts per account free of any wait; then 1 s, doubling, up to the cap. */
  SIGNIN_ACCOUNT_FREE_ATTEMPTS: Type.Integer({ minimum: 1, default: 5 }),
  SIGNIN_ACCOUNT_MAX_DELAY_SECONDS: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
  /**
   * Sign-in attempts free of any wait through a device cookie (exempt from the account's backoff),
   * per device; then the same backoff, up to the same cap.
   */
  SIGNIN_DEVICE_FREE_ATTEMPTS: Type.Integer({ minimum: 1, default: 5 }),
  /** How long a device cookie lasts (a year; browsers keep a cookie 400 days at most). */
  SIGNIN_DEVICE_MAX_AGE_SECONDS: Type.Integer({ minimum: 1, maximum: 400 * 86_400, default: 365 * 86_400 }),
  /** Sign-ups per client address. */
  SIGNUP_LIMIT_MAX: Type.Integer({ minimum: 1, default: 20 }),
  SIGNUP_LIMIT_WINDOW_SECONDS: Type.Integer({ minimum: 1, default: 3_600 }),
});

export interface AuthSettings {
  /** Sign-in attempts per client address. */
  signInPerAddress: WindowLimit;
  /** The backoff of sign-in attempts per account (its normalised email), known or not. */
  signInPerAccount: BackoffPolicy;
  /** The backoff of sign-in attempts through a device cookie, per device, instead of the account's. */
  signInPerDevice: BackoffPolicy;
  /** How long a device cookie lasts, in seconds. */
  deviceCookieMaxAgeSeconds: number;
  /** Sign-ups per client address. */
  signUpPerAddress: WindowLimit;
}

export function authSettingsFromEnv(env: Record<string, string | undefined> = process.env): AuthSettings {
  const config = loadConfig(AuthConfig, env);
  return {
    signInPerAddress: {
      max: config.SIGNIN_ADDRESS_LIMIT_MAX,
      windowSeconds: config.SIGNIN_ADDRESS_LIMIT_WINDOW_SECONDS,
    },
    signInPerAccount: {
      freeAttempts: config.SIGNIN_ACCOUNT_FREE_ATTEMPTS,
      maxDelaySeconds: config.SIGNIN_ACCOUNT_MAX_DELAY_SECONDS,
    },
    signInPerDevice: {
      freeAttempts: config.SIGNIN_DEVICE_FREE_ATTEMPTS,
      maxDelaySeconds: config.SIGNIN_ACCOUNT_MAX_DELAY_SECONDS,
    },
    deviceCookieMaxAgeSeconds: config.SIGNIN_DEVICE_MAX_AGE_SECONDS,
    signUpPerAddress: { max: config.SIGNUP_LIMIT_MAX, windowSeconds: config.SIGNUP_LIMIT_WINDOW_SECONDS },
  };
}

/** The service, with its settings from the environment but for those given. */
export function authService(overrides: Partial<AuthSettings> = {}): ServiceModule {
  const settings = { ...authSettingsFromEnv(), ...overrides };
  return {
    name: 'auth',
    migrations: fileURLToPath(new URL('../drizzle', import.meta.url)),
    async routes(app, context) {
      // Made now rather than on the first unknown-email sign-in, which would otherwise take twice as long.
      await dummyPasswordHash();
      app.addSchema(UserJson);
      const devices = deviceCookies(app, settings.deviceCookieMaxAgeSeconds);
      await signUpRoute(app, context, settings, devices);
      await signInRoute(app, context, settings, devices);
      await signOutRoute(app, context);
      await currentUserRoute(app, context);
    },
    background: ({ database, logger }) => {
      // Sessions long ended are only history: forgotten a minute after start, then hourly.
      const forget = () => {
        forgetEndedSessions(database).catch((error: unknown) =>
          logger.warn({ err: error }, 'could not forget ended sessions; will try again'),
        );
      };
      let timer = setTimeout(() => {
        forget();
        timer = setInterval(forget, 3_600_000).unref();
      }, 60_000).unref();
      return { stop: async () => clearTimeout(timer) };
    },
  };
}
