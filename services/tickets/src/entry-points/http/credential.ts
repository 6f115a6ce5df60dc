import { Type } from 'typebox';
import {
  errorResponses,
  PUBLIC,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { CODE_LENGTH } from '../../domain/credentials.ts';
import { getCredential, verifyCredential } from '../../domain/tickets.ts';
import { TicketParams } from './ticket-json.ts';
import type { TicketsSettings } from '../../service.ts';

const Code = Type.String({
  pattern: `^[A-Z2-7]{${CODE_LENGTH}}$`,
  description: `${CODE_LENGTH} characters of A–Z and 2–7. A new one is issued whenever the ticket changes hands; the previous owner's stops verifying then.`,
});

const Verification = Type.Union([
  Type.Object({
    valid: Type.Literal(true),
    ticketId: Type.String({ format: 'uuid' }),
    title: Type.String({ minLength: 1 }),
  }),
  Type.Object({ valid: Type.Literal(false) }),
]);

/** The owner's credential for the door, and its verification by whoever scans it. */
export async function credentialRoutes(
  app: HttpApp,
  { database }: ServiceContext,
  { credentialKey, verifyPerAddress }: Pick<TicketsSettings, 'credentialKey' | 'verifyPerAddress'>,
) {
  app.get(
    '/api/tickets/:id/credential',
    {
      schema: {
        operationId: 'getTicketCredential',
        summary: "The owner's credential for getting in",
        description: 'What the door scans (for example as a QR code). Only the current owner gets it.',
        tags: ['tickets'],
        security: SESSION_REQUIRED,
        params: TicketParams,
        response: {
          200: success(Type.Object({ code: Code }), 'The credential'),
          ...errorResponses({
            400: 'The id is not a UUID',
            401: 'Not signed in, or not the owner of the ticket',
            404: 'No ticket has this id',
          }),
        },
      },
    },
    async (request, reply) => {
      const credential = await getCredential(
        database.db,
        requireUser(request),
        request.params.id,
        credentialKey,
      );
      return reply.header('cache-control', 'no-store').send(credential);
    },
  );

  app.post(
    '/api/tickets/verify',
    {
      onRequest: app.limits.perAddress(
        'verify',
        verifyPerAddress,
        'Too many credential checks from this address',
      ),
      schema: {
        operationId: 'verifyTicketCredential',
        summary: 'Check a credential at the door',
        description:
          "Whether `code` is the credential of a ticket's current owner. Spaces, dashes and lower case are forgiven. The answer has the same shape for every code that is not valid, whatever is wrong with it.",
        tags: ['tickets'],
        security: PUBLIC,
        body: Type.Object({ code: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
        response: {
          200: success(Verification, '`valid`, and for a valid code its ticket'),
          ...errorResponses({
            400: 'No `code`, or one longer than 200 characters',
            429: 'Too many checks from this address: wait `Retry-After` seconds',
          }),
        },
      },
    },
    async (request) => verifyCredential(database.db, request.body.code),
  );
}
