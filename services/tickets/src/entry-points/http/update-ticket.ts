import { requireUser, type HttpApp, type ServiceContext } from '@ticketing/common';
import { parseTicketInput, updateTicket } from '../../domain/tickets.ts';
import { TicketBody, TicketJson, TicketParams, ticketJson } from './ticket-json.ts';

export async function updateTicketRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.put(
    '/api/tickets/:id',
    {
      schema: {
        summary: "Edit one's own ticket while no order holds it",
        tags: ['tickets'],
        security: [{ session: [] }],
        params: TicketParams,
        body: TicketBody,
        response: { 200: TicketJson },
      },
    },
    async (request) => {
      const seller = requireUser(request);
      const ticket = await updateTicket(
        database.db,
        seller,
        request.params.id,
        parseTicketInput(request.body),
      );
      return ticketJson(ticket);
    },
  );
}
