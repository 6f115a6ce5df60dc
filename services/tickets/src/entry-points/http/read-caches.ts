/**
 * The tickets and pages that reads are answered from, as the JSON text sent, so that a hit costs
 * neither a query nor serialisation. Kept right by the database's change feed: every change to a
 * ticket (a seller's edit, a reservation, a release) writes an outbox row naming it.
 *
 * The text goes out as it is, past the routes' response serialisers: `ticketJson` must keep to the
 * schema (TicketJson) by itself. The route tests compare whole responses with it.
 */
import { ReadCache, type ChangeSource } from '@ticketing/common';

export interface TicketReadCaches {
  /** By ticket id. */
  tickets: ReadCache<string>;
  /** By query string; any ticket's change can move it onto or off a page, so any change drops all. */
  pages: ReadCache<string>;
}

export function ticketReadCaches(feed: ChangeSource, ttlMs: number): TicketReadCaches {
  return {
    tickets: new ReadCache({ feed, ttlMs, maxEntries: 10_000, invalidatedBy: 'key' }),
    pages: new ReadCache({ feed, ttlMs, maxEntries: 1_000, invalidatedBy: 'any change' }),
  };
}
