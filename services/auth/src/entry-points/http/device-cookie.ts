/**
 * Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
 * has signed up or in to an account carries a cookie saying so, and its sign-ins to that account
 * are exempt from the account's backoff, so that someone guessing from elsewhere cannot keep the
 * owner out. Any other attempt (a new device, the guesser) is under the backoff as before.
 *
 * The cookie names the account (its email as sign-in normalises it), a random device id and its
 * expiry, with an HMAC-SHA-256 under a key derived from the session key
 * (`app.session.keyFor`): it cannot be made or altered without that key, and a session token is
 * not one. It goes to the sign-in route only (`Path`), httpOnly, SameSite=Strict, Secure as the
 * session cookie is. Nothing is stored: a cookie is good until it expires, and each sign-in sets a
 * new one. The sign-in route gives each device id a backoff of its own, so a stolen cookie is no
 * unlimited oracle either.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { HttpApp } from '@ticketing/common';

export const DEVICE_COOKIE = 'device';
/** The route the cookie is sent to, and only that one. */
const DEVICE_COOKIE_PATH = '/api/users/signin';

interface DeviceClaims {
  /** The account the device signed in to. */
  account: string;
  /** A random id of this cookie, the key of its own backoff. */
  device: string;
  /** Expiry, in seconds since the epoch. */
  exp: number;
}

/** What the cookies need of a request and a reply (Fastify's, with `@fastify/cookie`). */
interface WithCookies {
  cookies: Record<string, string | undefined>;
}
interface SetsCookies {
  setCookie(
    name: string,
    value: string,
    options: { path: string; httpOnly: boolean; sameSite: 'strict'; secure: boolean; maxAge: number },
  ): unknown;
}

export interface DeviceCookies {
  /** The device id of a valid cookie on `request` for `account`; null if none, another account's, or not valid. */
  deviceOf(request: WithCookies, account: string): string | null;
  /** Sets a new cookie for `account` (a new device id) on the reply. */
  issue(reply: SetsCookies, account: string): void;
}

/** Device cookies on `app`'s key, valid `maxAgeSeconds` after they are set. */
export function deviceCookies(app: HttpApp, maxAgeSeconds: number, now = Date.now): DeviceCookies {
  const key = app.session.keyFor('device-cookie');
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest();
  return {
    deviceOf(request, account) {
      const value = request.cookies[DEVICE_COOKIE];
      const dot = value?.indexOf('.') ?? -1;
      if (!value || dot < 0) return null;
      const payload = value.slice(0, dot);
      const signature = Buffer.from(value.slice(dot + 1), 'base64url');
      const expected = mac(payload);
      if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;
      let claims: Partial<DeviceClaims>;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Partial<DeviceClaims>;
      } catch {
        return null;
      }
      if (claims.account !== account || typeof claims.device !== 'string') return null;
      if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now()) return null;
      return claims.device;
    },
    issue(reply, account) {
      const claims: DeviceClaims = {
        account,
        device: randomUUID(),
        exp: Math.ceil(now() / 1000) + maxAgeSeconds, // never before the cookie's own Max-Age
      };
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      reply.setCookie(DEVICE_COOKIE, `${payload}.${mac(payload).toString('base64url')}`, {
        path: DEVICE_COOKIE_PATH,
        httpOnly: true,
        sameSite: 'strict',
        secure: app.session.secureCookies,
        maxAge: maxAgeSeconds,
      });
    },
  };
}
