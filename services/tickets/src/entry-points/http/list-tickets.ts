/**
 * `GET /api/tickets`: the tickets for sale, searched, filtered and sorted, a page at a time.
 *
 * The answer is a JSON array of tickets, as the original course app's API gives it (its client
 * maps over it unchanged); the next page is in a `Link` header (RFC 8288, `rel="next"`) that
 * carries the same filters and a cursor, absent on the last page.
 */
import { Type, type Static } from 'typebox';
import {
  BadRequestError,
  errorResponses,
  type ErrorItem,
  type HttpApp,
  PUBLIC,
  type ReadCache,
  ref,
  sendJsonText,
  type ServiceContext,
  success,
  toCents,
  ValidationError,
} from '@ticketing/common';
import { MAX_CITY_LENGTH, MAX_PRICE, searchTickets, type ListingRules } from '../../domain/tickets.ts';
import {
  SORTS,
  type PageCursor,
  type Sort,
  type TicketSearch,
} from '../../data-access/tickets-repository.ts';
import type { CachedPage } from './read-caches.ts';
import { TicketJson, ticketJson } from './ticket-json.ts';

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 20;
/** At most this many words of `q` are searched for; more narrow nothing a buyer needs. */
export const MAX_SEARCH_WORDS = 8;

const Amount = (description: string) =>
  Type.Number({ minimum: 0, maximum: MAX_PRICE, multipleOf: 0.01, description });

const Query = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        maxLength: 200,
        description:
          'Words in the title or venue, in any order, case and accents aside; each matches the start of a word ("oly" finds "Olympia").',
      }),
    ),
    city: Type.Optional(
      Type.String({ maxLength: MAX_CITY_LENGTH, description: 'The city, case and accents aside.' }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Events starting at or after.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Events starting at or before.' })),
    minPrice: Type.Optional(Amount('The lowest price, in currency units.')),
    maxPrice: Type.Optional(Amount('The highest price, in currency units.')),
    sort: Type.Optional(
      Type.Union(
        SORTS.map((sort) => Type.Literal(sort)),
        {
          default: 'newest',
          description:
            '`newest` listed first (the default), `price` cheapest first, `startsAt` soonest first (tickets without a date last).',
        },
      ),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
    cursor: Type.Optional(
      Type.String({ maxLength: 300, description: 'From the `Link` header of the previous page.' }),
    ),
  },
  { additionalProperties: false },
);

/** The cursor is opaque to clients: the sort, and the sort key and id of the last ticket of the page. */
const encodeCursor = (cursor: PageCursor) =>
  Buffer.from(JSON.stringify([cursor.sort, cursor.key, cursor.id])).toString('base64url');

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

/** The key of a sort as a cursor carries it. */
function isSortKey(sort: Sort, key: unknown): key is string | number {
  switch (sort) {
    case 'price':
      return Number.isSafeInteger(key) && (key as number) > 0;
    case 'startsAt':
      return key === 'infinity' || (typeof key === 'string' && isTimestamp(key));
    case 'newest':
      return typeof key === 'string' && isTimestamp(key);
  }
}

function decodeCursor(text: string, sort: Sort): PageCursor {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(text, 'base64url').toString());
  } catch {
    parts = undefined;
  }
  if (Array.isArray(parts) && parts.length === 3) {
    const [cursorSort, key, id] = parts as unknown[];
    if (
      typeof cursorSort === 'string' &&
      cursorSort !== sort &&
      (SORTS as readonly string[]).includes(cursorSort)
    ) {
      throw new BadRequestError(`cursor is for sort=${cursorSort}, not sort=${sort}`, 'cursor');
    }
    if (cursorSort === sort && isSortKey(sort, key) && typeof id === 'string' && UUID.test(id)) {
      return { sort, key, id };
    }
  }
  throw new BadRequestError('cursor is invalid', 'cursor');
}

/** The words of `q` to search for: letters and digits, split on anything else. */
const searchWords = (q: string) =>
  q
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

type ListQuery = Static<typeof Query>;

/** The search a query asks for, or a 400 naming the field that is wrong. */
function parseSearch(query: ListQuery): TicketSearch {
  const sort = query.sort ?? 'newest';
  const problems: ErrorItem[] = [];
  const words = searchWords(query.q ?? '');
  if (words.length > MAX_SEARCH_WORDS) {
    problems.push({ message: `q must have at most ${MAX_SEARCH_WORDS} words`, field: 'q' });
  }
  if (query.from !== undefined && query.to !== undefined && Date.parse(query.from) > Date.parse(query.to)) {
    problems.push({ message: 'to must not be before from', field: 'to' });
  }
  if (query.minPrice !== undefined && query.maxPrice !== undefined && query.minPrice > query.maxPrice) {
    problems.push({ message: 'maxPrice must not be below minPrice', field: 'maxPrice' });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  const city = query.city?.trim();
  return {
    sort,
    ...(words.length > 0 ? { words } : {}),
    ...(city ? { city } : {}),
    ...(query.from === undefined ? {} : { from: new Date(query.from).toISOString() }),
    ...(query.to === undefined ? {} : { to: new Date(query.to).toISOString() }),
    ...(query.minPrice === undefined ? {} : { minPriceCents: toCents(query.minPrice)! }),
    ...(query.maxPrice === undefined ? {} : { maxPriceCents: toCents(query.maxPrice)! }),
    ...(query.cursor === undefined ? {} : { after: decodeCursor(query.cursor, sort) }),
  };
}

/**
 * The query of the next page: the filters as the client gave them (but for the cursor), in a fixed
 * order, so that every client asking for the same page shares one cache entry.
 */
function pageQuery(query: ListQuery, cursor?: string): string {
  const params = new URLSearchParams();
  for (const name of Object.keys(Query.properties).sort() as (keyof ListQuery)[]) {
    const value = name === 'cursor' ? cursor : query[name];
    if (value !== undefined && value !== '') params.set(name, String(value));
  }
  return params.toString();
}

export async function listTicketsRoute(
  app: HttpApp,
  { database }: ServiceContext,
  cache: ReadCache<CachedPage>,
  rules: ListingRules,
): Promise<void> {
  app.get(
    '/api/tickets',
    {
      schema: {
        operationId: 'listTickets',
        summary: 'Search the tickets for sale',
        description:
          'Listed tickets that no order holds and whose event has not started, matching every filter given, in the order asked. A JSON array; the next page is in the `Link` header.',
        tags: ['tickets'],
        security: PUBLIC,
        querystring: Query,
        response: {
          200: success(
            Type.Array(ref(TicketJson), { maxItems: MAX_PAGE_SIZE }),
            'A page of tickets for sale',
            {
              Link: {
                type: 'string',
                description:
                  'The next page, as `<url>; rel="next"` (RFC 8288): the same filters and a cursor. Absent on the last page.',
              },
            },
          ),
          ...errorResponses({
            400: 'An unknown parameter; a parameter out of its range (`limit` 1 to 100, prices 0 to 1000000); `to` before `from`, `maxPrice` below `minPrice`; more than 8 words; a `cursor` this API did not give, or one of another sort (the field named)',
          }),
        },
      },
    },
    async (request, reply) => {
      const query = request.query;
      const limit = query.limit ?? DEFAULT_PAGE_SIZE;
      const search = parseSearch(query); // a bad query is a 400, not a cache entry
      const page = await cache.get(pageQuery(query, query.cursor), async () => {
        const found = await searchTickets(database.db, search, limit);
        return {
          json: JSON.stringify(found.items.map((ticket) => ticketJson(ticket, rules))),
          next: found.next && `/api/tickets?${pageQuery(query, encodeCursor(found.next))}`,
        };
      });
      if (page.next) reply.header('link', `<${page.next}>; rel="next"`);
      return sendJsonText(reply, page.json);
    },
  );
}
