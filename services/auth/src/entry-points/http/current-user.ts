import { Type } from 'typebox';
import type { HttpApp, ServiceContext } from '@ticketing/common';
import { UserJson, userJson } from './user-json.ts';

const CurrentUserResponse = Type.Object({ currentUser: Type.Union([UserJson, Type.Null()]) });

export async function currentUserRoute(app: HttpApp, _context: ServiceContext): Promise<void> {
  app.get(
    '/api/users/currentuser',
    {
      schema: {
        summary: 'The signed-in user, or null',
        description: 'Never 401: a missing, expired or tampered session cookie simply gives null.',
        tags: ['users'],
        security: [{ session: [] }],
        response: { 200: CurrentUserResponse },
      },
    },
    async (request) => ({ currentUser: request.currentUser ? userJson(request.currentUser) : null }),
  );
}
