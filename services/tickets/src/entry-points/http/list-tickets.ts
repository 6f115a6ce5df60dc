import { Type } from 'typebox';
import {
  BadRequestError,
  type HttpApp,
  type ReadCache,
  sendJsonText,
  type ServiceContext,
} from '@ticketing/common';
import { listTickets } from '../../domain/tickets.ts';
import type { PageCursor } from '../../data-access/tickets-repository.ts';
import { TicketJson, ticketJson } from './ticket-json.ts';

export const MAX_PAGE_SIZE = 100;

const Query = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
});

const Page = Type.Object({
  tickets: Type.Array(TicketJson),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

/** The cursor is opaque to clients: the (createdAt, id) of the last ticket of the page. */
const encodeCursor = (cursor: PageCursor) =>
  Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');

function decodeCursor(text: string): PageCursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown[];
    if (
      typeof createdAt === 'string' &&
      !Number.isNaN(Date.parse(createdAt)) &&
      typeof id === 'string' &&
      /^[0-9a-f-]{36}$/i.test(id)
    ) {
      return { createdAt, id };
    }
  } catch {
    // fall through
  }
  throw new BadRequestError('cursor is invalid', 'cursor');
}

export async function listTicketsRoute(
  app: HttpApp,
  { database }: ServiceContext,
  cache: ReadCache<string>,
): Promise<void> {
  app.get(
    '/api/tickets',
    {
      schema: {
        summary: 'Tickets available to buy, newest first',
        tags: ['tickets'],
        querystring: Query,
        response: { 200: Page },
      },
    },
    async (request, reply) => {
      const { limit, cursor } = request.query;
      const after = cursor ? decodeCursor(cursor) : undefined; // a bad cursor is a 400, not a cache entry
      const json = await cache.get(`${limit}:${cursor ?? ''}`, async () => {
        const page = await listTickets(database.db, limit, after);
        return JSON.stringify({
          tickets: page.items.map(ticketJson),
          nextCursor: page.next ? encodeCursor(page.next) : null,
        });
      });
      return sendJsonText(reply, json);
    },
  );
}
