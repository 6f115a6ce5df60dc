import { Type } from 'typebox';
import type { HttpApp, ServiceContext } from '@ticketing/common';

export async function signOutRoute(app: HttpApp, _context: ServiceContext): Promise<void> {
  app.post(
    '/api/users/signout',
    {
      schema: {
        summary: 'Sign out: clear the session cookie',
        tags: ['users'],
        response: { 200: Type.Object({}) },
      },
    },
    async (_request, reply) => {
      app.session.end(reply);
      return {};
    },
  );
}
