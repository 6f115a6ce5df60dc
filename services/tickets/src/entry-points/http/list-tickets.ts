import { Type } from 'typebox';
import {
  BadRequestError,
  errorResponses,
  type HttpApp,
  PUBLIC,
  type ReadCache,
  ref,
  sendJsonText,
  type ServiceContext,
  success,
} from '@ticketing/common';
import { listTickets, type ListingRules } from '../../domain/tickets.ts';
import type { PageCursor } from '../../data-access/tickets-repository.ts';
import { TicketJson, ticketJson } from './ticket-json.ts';

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;

const Query = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'nextCursor of the previous page' })),
});

export const TicketPage = Type.Object(
  {
    tickets: Type.Array(ref(TicketJson), { maxItems: MAX_PAGE_SIZE }),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description: 'The `cursor` of the next page; null on the last page',
    }),
  },
  { $id: 'TicketPage' },
);

/** The cursor is opaque to clients: the (createdAt, id) of the last ticket of the page. */
const encodeCursor = (cursor: PageCursor) =>
  Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');

/**
 * A timestamp as Postgres writes one (`2026-12-01 17:04:50.123456+00`) that it reads back: a real
 * day and time of years 1 to 9999, an offset within ±15:59. (`Date.parse` takes 30 February.)
 */
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-](\d{2})(?::?(\d{2}))?)$/;

function isTimestamp(text: string): boolean {
  const parts = TIMESTAMP.exec(text);
  if (!parts) return false;
  const [year, month, day, hour, minute, second, offsetHours = 0, offsetMinutes = 0] = parts
    .slice(1)
    .map((part) => Number(part ?? 0));
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month! - 1];
  return (
    year! >= 1 &&
    days !== undefined &&
    day! >= 1 &&
    day! <= days &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    offsetHours <= 15 &&
    offsetMinutes <= 59
  );
}

/** A UUID as Postgres reads one back (`00000000-0000-0000-0000-000000000000` and the like). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function decodeCursor(text: string): PageCursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown[];
    if (typeof createdAt === 'string' && isTimestamp(createdAt) && typeof id === 'string' && UUID.test(id)) {
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
  rules: ListingRules,
): Promise<void> {
  app.get(
    '/api/tickets',
    {
      schema: {
        operationId: 'listTickets',
        summary: 'Tickets for sale, newest first',
        description: 'Listed tickets that no order holds. Page through them with `nextCursor`.',
        tags: ['tickets'],
        security: PUBLIC,
        querystring: Query,
        response: {
          200: success(TicketPage, 'A page of tickets for sale'),
          ...errorResponses({ 400: '`limit` out of 1 to 100, or a `cursor` this API did not give' }),
        },
      },
    },
    async (request, reply) => {
      const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query;
      const after = cursor ? decodeCursor(cursor) : undefined; // a bad cursor is a 400, not a cache entry
      const json = await cache.get(`${limit}:${cursor ?? ''}`, async () => {
        const page = await listTickets(database.db, limit, after);
        return JSON.stringify({
          tickets: page.items.map((ticket) => ticketJson(ticket, rules)),
          nextCursor: page.next ? encodeCursor(page.next) : null,
        });
      });
      return sendJsonText(reply, json);
    },
  );
}
