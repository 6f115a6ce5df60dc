import { Type } from 'typebox';
import { errorResponses, PUBLIC, success, type HttpApp, type ServiceContext } from '@ticketing/common';
import { MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH, signIn } from '../../domain/users.ts';
import { SESSION_COOKIE_HEADER, UserJson, userJson } from './user-json.ts';

const SignInBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: MAX_EMAIL_LENGTH, description: 'Case-insensitive.' }),
    password: Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH }),
  },
  { additionalProperties: false },
);

export async function signInRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.post(
    '/api/users/signin',
    {
      schema: {
        operationId: 'signIn',
        summary: 'Sign in with email and password',
        description:
          'Sets the session cookie. 400 "Invalid credentials" for an unknown email or a wrong password alike.',
        tags: ['users'],
        security: PUBLIC,
        body: SignInBody,
        response: {
          200: success(UserJson, 'Signed in: the session cookie is set', SESSION_COOKIE_HEADER),
          ...errorResponses({
            400: '"Invalid credentials" (an unknown email or a wrong password, alike), or an invalid body',
          }),
        },
      },
    },
    async (request, reply) => {
      const { user, session } = await signIn(database.db, request.body, app.session.lifetimes);
      await app.session.start(reply, user, session);
      return userJson(user);
    },
  );
}
