import { Type } from 'typebox';
import {
  errorResponses,
  ref,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { listOwnTickets, type ListingRules } from '../../domain/tickets.ts';
import { TicketJson, ticketJson } from './ticket-json.ts';

export async function myTicketsRoute(app: HttpApp, { database }: ServiceContext, rules: ListingRules) {
  app.get(
    '/api/tickets/mine',
    {
      schema: {
        operationId: 'listMyTickets',
        summary: 'Every ticket the signed-in user owns',
        description: 'Listed, held by an order, or not listed; the most recently acquired first.',
        tags: ['tickets'],
        security: SESSION_REQUIRED,
        response: {
          200: success(Type.Object({ tickets: Type.Array(ref(TicketJson)) }), 'The tickets'),
          ...errorResponses({ 401: 'Not signed in' }),
        },
      },
    },
    async (request) => {
      const tickets = await listOwnTickets(database.db, requireUser(request));
      return { tickets: tickets.map((ticket) => ticketJson(ticket, rules)) };
    },
  );
}
