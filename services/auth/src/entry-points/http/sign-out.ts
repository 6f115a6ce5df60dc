import { Type } from 'typebox';
import {
  errorResponses,
  requireUser,
  SESSION_OPTIONAL,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { endEverySession, endSession } from '../../domain/sessions.ts';
import { SESSION_COOKIE_HEADER } from './user-json.ts';

const Empty = Type.Object({}, { additionalProperties: false });

export async function signOutRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.post(
    '/api/users/signout',
    {
      schema: {
        operationId: 'signOut',
        summary: 'Sign out: end this session and clear its cookie',
        description:
          'Works with or without a session. A valid session is revoked: every service refuses its token ' +
          'from then on (within a second), wherever a copy of the cookie is.',
        tags: ['users'],
        security: SESSION_OPTIONAL, // the session, if any, is the one ended
        response: {
          200: success(
            Empty,
            'Signed out: the session is ended and its cookie cleared',
            SESSION_COOKIE_HEADER,
          ),
        },
      },
    },
    async (request, reply) => {
      if (request.currentSession) {
        const revocation = await endSession(database, request.currentSession, app.session.lifetimes);
        // This replica refuses it now; the others as the notification and the event reach them.
        if (revocation) app.session.revocations.add(revocation);
      }
      app.session.end(reply);
      return {};
    },
  );

  app.post(
    '/api/users/signout-everywhere',
    {
      schema: {
        operationId: 'signOutEverywhere',
        summary: 'Sign out everywhere: end every session of the signed-in user',
        description:
          'Ends this session and every other one of the user, on every device, begun until now: every ' +
          'service refuses their tokens from then on (within a second). Clears this cookie.',
        tags: ['users'],
        security: SESSION_REQUIRED,
        response: {
          200: success(Empty, 'Every session ended, and this cookie cleared', SESSION_COOKIE_HEADER),
          ...errorResponses({ 401: 'Not signed in' }),
        },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const revocation = await endEverySession(database, user.id, app.session.lifetimes);
      app.session.revocations.add(revocation);
      app.session.end(reply);
      return {};
    },
  );
}
