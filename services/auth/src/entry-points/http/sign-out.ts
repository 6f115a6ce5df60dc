import { Type } from 'typebox';
import { PUBLIC, success, type HttpApp, type ServiceContext } from '@ticketing/common';
import { SESSION_COOKIE_HEADER } from './user-json.ts';

export async function signOutRoute(app: HttpApp, _context: ServiceContext): Promise<void> {
  app.post(
    '/api/users/signout',
    {
      schema: {
        operationId: 'signOut',
        summary: 'Sign out: clear the session cookie',
        description: 'Works with or without a session: it only clears the cookie.',
        tags: ['users'],
        security: PUBLIC,
        response: {
          200: success(
            Type.Object({}, { additionalProperties: false }),
            'Signed out: the session cookie is cleared',
            SESSION_COOKIE_HEADER,
          ),
        },
      },
    },
    async (_request, reply) => {
      app.session.end(reply);
      return {};
    },
  );
}
