import {
  errorResponses,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { parseTicketInput, updateTicket, type ListingRules } from '../../domain/tickets.ts';
import { TicketBody, TicketJson, TicketParams, ticketJson } from './ticket-json.ts';

export async function updateTicketRoute(
  app: HttpApp,
  { database }: ServiceContext,
  rules: ListingRules,
): Promise<void> {
  app.put(
    '/api/tickets/:id',
    {
      schema: {
        operationId: 'updateTicket',
        summary: "Edit one's own ticket while no order holds it",
        description:
          "Title, price and face value, and the event's venue, city and start. Once the ticket has been sold, the event (title, venue, city, start) and the face value are fixed; the price is at most `maxPrice`. Refused once the event has started.",
        tags: ['tickets'],
        security: SESSION_REQUIRED,
        params: TicketParams,
        body: TicketBody,
        response: {
          200: success(TicketJson, 'The ticket, edited; `ticket:updated` is published'),
          ...errorResponses({
            400: '"Cannot edit a reserved ticket", "This event has already started"; an invalid title, price, face value, venue, city or start, a price above the cap, or the event or face value changed after a sale (the field named); or an id that is not a UUID',
            401: 'Not signed in, or not the owner of the ticket',
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
        rules,
      );
      return ticketJson(ticket, rules);
    },
  );
}
