/**
 * The tickets and pages that reads are answered from, with the JSON text sent, so that a hit costs
 * neither a query nor serialisation. Kept right by the database's change feed: every change to a
 * ticket (an owner's edit, a listing, a reservation, a release, a sale) writes an outbox row naming
 * it.
 *
 * The text goes out as it is, past the routes' response serialisers: `ticketJson` must keep to the
 * schema (TicketJson) by itself. The route tests compare whole responses with it.
 */
import { ReadCache, type ChangeSource } from '@ticketing/common';
import type { Ticket } from '../../data-access/tickets-repository.ts';

/** A ticket as read, for deciding who may see it, and the JSON text it is sent as. */
export interface CachedTicket {
  ticket: Pick<Ticket, 'listed' | 'orderId' | 'userId'>;
  json: string;
}

export interface TicketReadCaches {
  /** By ticket id. */
  tickets: ReadCache<CachedTicket>;
  /** By query string; any ticket's change can move it onto or off a page, so any change drops all. */
  pages: ReadCache<CachedPage>;
}

/** A page of tickets for sale: its JSON text, and the address of the next page (none: the last). */
export interface CachedPage {
  json: string;
  next: string | undefined;
}

export function ticketReadCaches(feed: ChangeSource, ttlMs: number): TicketReadCaches {
  return {
    tickets: new ReadCache({ feed, ttlMs, maxEntries: 10_000, invalidatedBy: 'key' }),
    pages: new ReadCache({ feed, ttlMs, maxEntries: 1_000, invalidatedBy: 'any change' }),
  };
}
