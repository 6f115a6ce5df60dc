import {
  errorResponses,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { createTicket, parseTicketInput, type ListingRules } from '../../domain/tickets.ts';
import { TicketBody, TicketJson, ticketJson } from './ticket-json.ts';

export async function createTicketRoute(
  app: HttpApp,
  { database }: ServiceContext,
  rules: ListingRules,
): Promise<void> {
  app.post(
    '/api/tickets',
    {
      schema: {
        operationId: 'createTicket',
        summary: 'List a ticket for sale',
        tags: ['tickets'],
        security: SESSION_REQUIRED,
        body: TicketBody,
        response: {
          201: success(TicketJson, 'The ticket, listed; `ticket:created` is published'),
          ...errorResponses({
            400: 'An invalid title, price, face value, venue, city or start (one not in the future), or a price above the cap (the field named)',
            401: 'Not signed in',
          }),
        },
      },
    },
    async (request, reply) => {
      const seller = requireUser(request);
      const ticket = await createTicket(database.db, seller, parseTicketInput(request.body), rules);
      return reply.status(201).send(ticketJson(ticket, rules));
    },
  );
}
