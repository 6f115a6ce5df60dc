import { sendJsonText, type HttpApp, type ReadCache, type ServiceContext } from '@ticketing/common';
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
        summary: 'One ticket',
        tags: ['tickets'],
        params: TicketParams,
        response: { 200: TicketJson },
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
