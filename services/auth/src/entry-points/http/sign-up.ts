import { Type } from 'typebox';
import { errorResponses, PUBLIC, success, type HttpApp, type ServiceContext } from '@ticketing/common';
import {
  MAX_EMAIL_LENGTH,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  normaliseEmail,
  signUp,
} from '../../domain/users.ts';
import type { AuthSettings } from '../../service.ts';
import type { DeviceCookies } from './device-cookie.ts';
import { SIGNED_IN_COOKIES_HEADER, UserJson, userJson } from './user-json.ts';

const SignUpBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: MAX_EMAIL_LENGTH, description: 'Case-insensitive.' }),
    password: Type.String({
      minLength: MIN_PASSWORD_LENGTH,
      maxLength: MAX_PASSWORD_LENGTH,
      description: 'Not one of the 50,000 most common passwords (compared in lower case).',
    }),
  },
  { additionalProperties: false },
);

export async function signUpRoute(
  app: HttpApp,
  { database }: ServiceContext,
  settings: Pick<AuthSettings, 'signUpPerAddress'>,
  devices: DeviceCookies,
): Promise<void> {
  app.post(
    '/api/users/signup',
    {
      onRequest: app.limits.perAddress(
        'signup',
        settings.signUpPerAddress,
        'Too many sign-ups from this address',
      ),
      schema: {
        operationId: 'signUp',
        summary: 'Create an account and sign in to it',
        description:
          'Sets the session cookie, and the device cookie (see sign-in). 400 "Email in use" when the email already has an account. 429 once the address has signed up too often.',
        tags: ['users'],
        security: PUBLIC,
        body: SignUpBody,
        response: {
          201: success(
            UserJson,
            'Signed up and in: the session and device cookies are set',
            SIGNED_IN_COOKIES_HEADER,
          ),
          ...errorResponses({
            400: '"Email in use" (field `email`), an invalid email or password (the field named), or a password too common to allow (field `password`)',
            429: 'Too many sign-ups from this address: wait `Retry-After` seconds',
          }),
        },
      },
    },
    async (request, reply) => {
      const { user, session } = await signUp(database.db, request.body, app.session.lifetimes);
      await app.session.start(reply, user, session);
      devices.issue(reply, normaliseEmail(request.body.email));
      return reply.status(201).send(userJson(user));
    },
  );
}
