import { Type } from 'typebox';
import { ref, SESSION_OPTIONAL, success, type HttpApp, type ServiceContext } from '@ticketing/common';
import { UserJson, userJson } from './user-json.ts';

const CurrentUserResponse = Type.Object({ currentUser: Type.Union([ref(UserJson), Type.Null()]) });

export async function currentUserRoute(app: HttpApp, _context: ServiceContext): Promise<void> {
  app.get(
    '/api/users/currentuser',
    {
      schema: {
        operationId: 'getCurrentUser',
        summary: 'The signed-in user, or null',
        description: 'Never 401: a missing, expired or tampered session cookie simply gives null.',
        tags: ['users'],
        security: SESSION_OPTIONAL,
        response: { 200: success(CurrentUserResponse, 'The user the session cookie names, or null') },
      },
    },
    async (request) => ({ currentUser: request.currentUser ? userJson(request.currentUser) : null }),
  );
}
