import { Type } from 'typebox';
import { errorResponses, PUBLIC, success, type HttpApp, type ServiceContext } from '@ticketing/common';
import { MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH, normaliseEmail, signIn } from '../../domain/users.ts';
import type { AuthSettings } from '../../service.ts';
import type { DeviceCookies } from './device-cookie.ts';
import { SIGNED_IN_COOKIES_HEADER, UserJson, userJson } from './user-json.ts';

const SignInBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: MAX_EMAIL_LENGTH, description: 'Case-insensitive.' }),
    password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  },
  { additionalProperties: false },
);

export async function signInRoute(
  app: HttpApp,
  { database }: ServiceContext,
  settings: Pick<AuthSettings, 'signInPerAddress' | 'signInPerAccount' | 'signInPerDevice'>,
  devices: DeviceCookies,
): Promise<void> {
  // Per account, known or not (a refusal must not tell which emails have accounts).
  const perAccount = app.limits.backoff(
    'signin-account',
    settings.signInPerAccount,
    'Too many sign-in attempts for this account',
  );
  // Per device, for the attempts that bring a device cookie for the account instead.
  const perDevice = app.limits.backoff(
    'signin-device',
    settings.signInPerDevice,
    'Too many sign-in attempts from this device',
  );
  app.post(
    '/api/users/signin',
    {
      onRequest: app.limits.perAddress(
        'signin-address',
        settings.signInPerAddress,
        'Too many sign-in attempts from this address',
      ),
      schema: {
        operationId: 'signIn',
        summary: 'Sign in with email and password',
        description:
          'Sets the session cookie, and the `device` cookie: a browser that sends it back for the same account is exempt from the account\'s backoff, so guesses from elsewhere cannot keep it out. 400 "Invalid credentials" for an unknown email or a wrong password alike. 429 once the address has tried too often, or the account (or, with a device cookie, the device): a few attempts are free, then each makes the next wait longer (1 s, doubling, up to a cap); a success starts again.',
        tags: ['users'],
        security: PUBLIC,
        body: SignInBody,
        response: {
          200: success(
            UserJson,
            'Signed in: the session and device cookies are set',
            SIGNED_IN_COOKIES_HEADER,
          ),
          ...errorResponses({
            400: '"Invalid credentials" (an unknown email or a wrong password, alike), or an invalid body',
            429: 'Too many attempts from this address, for this account, or from this device: wait `Retry-After` seconds',
          }),
        },
      },
    },
    async (request, reply) => {
      const account = normaliseEmail(request.body.email);
      // A browser that signed in to this account before counts on its own, not on the account:
      // guesses from elsewhere cannot keep it out, and its success leaves their count as it is.
      const device = devices.deviceOf(request, account);
      const [limit, key] = device === null ? [perAccount, account] : [perDevice, device];
      // Before the password is hashed: an attempt that must wait costs no scrypt.
      await limit.attempt(key);
      const { user, session } = await signIn(database.db, request.body, app.session.lifetimes);
      await limit.clear(key);
      // The session's cookie first: a client that keeps only the first cookie keeps the session.
      await app.session.start(reply, user, session);
      devices.issue(reply, account);
      return userJson(user);
    },
  );
}
