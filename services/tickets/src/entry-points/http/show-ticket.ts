import type { HttpApp, ServiceContext } from '@ticketing/common';
import { getTicket } from '../../domain/tickets.ts';
import { TicketJson, TicketParams, ticketJson } from './ticket-json.ts';

export async function showTicketRoute(app: HttpApp, { database }: ServiceContext): Promise<void> {
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
    async (request) => ticketJson(await getTicket(database.db, request.params.id)),
  );
}
