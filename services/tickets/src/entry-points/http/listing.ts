import { Type } from 'typebox';
import {
  errorResponses,
  requireUser,
  SESSION_REQUIRED,
  success,
  type HttpApp,
  type ServiceContext,
} from '@ticketing/common';
import { listTicket, parseListingPrice, withdrawTicket, type ListingRules } from '../../domain/tickets.ts';
import { PriceInput, TicketJson, TicketParams, ticketJson } from './ticket-json.ts';

const ListingBody = Type.Object(
  { price: PriceInput("In currency units, with at most 2 decimals; at most the ticket's `maxPrice`.") },
  { additionalProperties: false },
);

/** An owner puts a ticket they own up for sale, or takes it off sale. */
export async function listingRoutes(app: HttpApp, { database }: ServiceContext, rules: ListingRules) {
  app.post(
    '/api/tickets/:id/listing',
    {
      schema: {
        operationId: 'listTicket',
        summary: 'Put a ticket one owns up for sale',
        description:
          'At `price`, at most its `maxPrice` (its face value plus the markup the marketplace allows). Listing a ticket already listed sets its price.',
        tags: ['tickets'],
        security: SESSION_REQUIRED,
        params: TicketParams,
        body: ListingBody,
        response: {
          200: success(TicketJson, 'The ticket, listed; `ticket:updated` is published when it changed'),
          ...errorResponses({
            400: 'A price that is invalid or above the cap (field `price`, with the cap), an order holds the ticket, its event has started, or an id that is not a UUID',
            401: 'Not signed in, or not the owner of the ticket',
            404: 'No ticket has this id',
          }),
        },
      },
    },
    async (request) => {
      const owner = requireUser(request);
      const price = parseListingPrice(request.body.price);
      return ticketJson(await listTicket(database.db, owner, request.params.id, price, rules), rules);
    },
  );

  app.delete(
    '/api/tickets/:id/listing',
    {
      schema: {
        operationId: 'withdrawTicket',
        summary: 'Take a ticket one owns off sale',
        description:
          'Refused while an order holds it. Withdrawing a ticket that is not listed changes nothing.',
        tags: ['tickets'],
        security: SESSION_REQUIRED,
        params: TicketParams,
        response: {
          204: success(Type.Null(), 'Not listed; `ticket:updated` is published when it was'),
          ...errorResponses({
            400: 'An order holds the ticket, or the id is not a UUID',
            401: 'Not signed in, or not the owner of the ticket',
            404: 'No ticket has this id',
          }),
        },
      },
    },
    async (request, reply) => {
      await withdrawTicket(database.db, requireUser(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
