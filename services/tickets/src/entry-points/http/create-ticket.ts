import { requireUser, type HttpApp, type ServiceContext } from '@ticketing/common';
import { createTicket, parseTicketInput } from '../../domain/tickets.ts';
import { TicketBody, TicketJson, ticketJson } from './ticket-json.ts';

export async function createTicketRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.post(
    '/api/tickets',
    {
      schema: {
        summary: 'List a ticket for sale',
        tags: ['tickets'],
        security: [{ session: [] }],
        body: TicketBody,
        response: { 201: TicketJson },
      },
    },
    async (request, reply) => {
      const seller = requireUser(request);
      const ticket = await createTicket(database.db, seller, parseTicketInput(request.body));
      return reply.status(201).send(ticketJson(ticket));
    },
  );
}
