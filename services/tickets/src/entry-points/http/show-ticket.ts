import {
  errorResponses,
  PUBLIC,
  sendJsonText,
  success,
  type HttpApp,
  type ReadCache,
  type ServiceContext,
} from '@ticketing/common';
import { getTicket } from '../../domain/tickets.ts';
import { TicketJson, TicketParams, ticketJson } from './ticket-json.ts';

export async function showTicketRoute(
  app: HttpApp,
  { database }: ServiceContext,
  cache: ReadCache<string>,
): Promise<void> {
  app.get(
    '/api/tickets/:id',
    {
      schema: {
        operationId: 'getTicket',
        summary: 'One ticket, available or not',
        tags: ['tickets'],
        security: PUBLIC,
        params: TicketParams,
        response: {
          200: success(TicketJson, 'The ticket'),
          ...errorResponses({ 400: 'The id is not a UUID', 404: 'No ticket has this id' }),
        },
      },
    },
    async (request, reply) => {
      const id = request.params.id.toLowerCase(); // the key changes are announced under
      const json = await cache.get(id, async () =>
        JSON.stringify(ticketJson(await getTicket(database.db, id))),
      );
      return sendJsonText(reply, json);
    },
  );
}
