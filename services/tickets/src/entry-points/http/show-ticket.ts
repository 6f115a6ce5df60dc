import {
  errorResponses,
  NotFoundError,
  SESSION_OPTIONAL,
  sendJsonText,
  success,
  type HttpApp,
  type ReadCache,
  type ServiceContext,
} from '@ticketing/common';
import { getTicket, isVisibleTo, type ListingRules } from '../../domain/tickets.ts';
import type { CachedTicket } from './read-caches.ts';
import { TicketJson, TicketParams, ticketJson } from './ticket-json.ts';

export async function showTicketRoute(
  app: HttpApp,
  { database }: ServiceContext,
  cache: ReadCache<CachedTicket>,
  rules: ListingRules,
): Promise<void> {
  app.get(
    '/api/tickets/:id',
    {
      schema: {
        operationId: 'getTicket',
        summary: 'One ticket',
        description:
          'A ticket for sale or held by an order, to anyone; one that is not listed, only to its owner.',
        tags: ['tickets'],
        security: SESSION_OPTIONAL,
        params: TicketParams,
        response: {
          200: success(TicketJson, 'The ticket'),
          ...errorResponses({
            400: 'The id is not a UUID',
            404: 'No ticket has this id, or it is not listed and not yours',
          }),
        },
      },
    },
    async (request, reply) => {
      const id = request.params.id.toLowerCase(); // the key changes are announced under
      const cached = await cache.get(id, async () => {
        const ticket = await getTicket(database.db, id);
        const { listed, orderId, userId } = ticket;
        return { ticket: { listed, orderId, userId }, json: JSON.stringify(ticketJson(ticket, rules)) };
      });
      if (!isVisibleTo(cached.ticket, request.currentUser?.id)) throw new NotFoundError('Ticket not found');
      return sendJsonText(reply, cached.json);
    },
  );
}
