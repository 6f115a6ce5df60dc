import {
  errorResponses,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { parseTicketInput, updateTicket } from '../../domain/tickets.ts';
import { TicketBody, TicketJson, TicketParams, ticketJson } from './ticket-json.ts';

export async function updateTicketRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
  app.put(
    '/api/tickets/:id',
    {
      schema: {
        operationId: 'updateTicket',
        summary: "Edit one's own ticket while no order holds it",
        tags: ['tickets'],
        security: SESSION_REQUIRED,
        params: TicketParams,
        body: TicketBody,
        response: {
          200: success(TicketJson, 'The ticket, edited; `ticket:updated` is published'),
          ...errorResponses({
            400: '"Cannot edit a reserved ticket", an invalid title or price, or an id that is not a UUID',
            401: 'Not signed in, or not the seller of the ticket',
            404: 'No ticket has this id',
          }),
        },
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
