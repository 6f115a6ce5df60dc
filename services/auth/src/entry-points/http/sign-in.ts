import { Type } from 'typebox';
import { errorResponses, PUBLIC, success, type HttpApp, type ServiceContext } from '@ticketing/common';
import { MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH, normaliseEmail, signIn } from '../../domain/users.ts';
import type { AuthSettings } from '../../service.ts';
import { SESSION_COOKIE_HEADER, UserJson, userJson } from './user-json.ts';

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
  settings: Pick<AuthSettings, 'signInPerAddress' | 'signInPerAccount'>,
): Promise<void> {
  // Per account, known or not (a refusal must not tell which emails have accounts).
  const perAccount = app.limits.backoff(
    'signin-account',
    settings.signInPerAccount,
    'Too many sign-in attempts for this account',
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
          'Sets the session cookie. 400 "Invalid credentials" for an unknown email or a wrong password alike. 429 once the address has tried too often, or the account: a few attempts are free, then each makes the next wait longer (1 s, doubling, up to a cap); a success starts again.',
        tags: ['users'],
        security: PUBLIC,
        body: SignInBody,
        response: {
          200: success(UserJson, 'Signed in: the session cookie is set', SESSION_COOKIE_HEADER),
          ...errorResponses({
            400: '"Invalid credentials" (an unknown email or a wrong password, alike), or an invalid body',
            429: 'Too many attempts from this address, or for this account: wait `Retry-After` seconds',
          }),
        },
      },
    },
    async (request, reply) => {
      const account = normaliseEmail(request.body.email);
      // Before the password is hashed: an account that must wait costs no scrypt.
      await perAccount.attempt(account);
      const user = await signIn(database.db, request.body);
      await perAccount.clear(account);
      await app.session.start(reply, user);
      return userJson(user);
    },
  );
}
