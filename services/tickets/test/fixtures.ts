import { randomUUID } from 'node:crypto';
import { createServiceHarness, type ServiceHarness } from '@ticketing/common/testing';
import { ticketsService } from '../src/service.ts';

export const startTickets = (): Promise<ServiceHarness> => createServiceHarness(ticketsService());

/** Lists a ticket through the API as a (new, by default) seller. */
export async function aTicket(
  harness: ServiceHarness,
  options: {
    cookie?: string;
    title?: string;
    price?: number;
    venue?: string;
    city?: string;
    startsAt?: string;
  } = {},
) {
  const { cookie: given, title = 'concert', price = 20, ...event } = options;
  const cookie = given ?? (await harness.signIn()).cookie;
  const response = await harness.app.inject({
    method: 'POST',
    url: '/api/tickets',
    headers: { cookie },
    payload: { title, price, ...event },
  });
  if (response.statusCode !== 201) throw new Error(`could not create ticket: ${response.body}`);
  return {
    ticket: response.json<{
      id: string;
      version: number;
      title: string;
      price: number;
      userId: string;
      startsAt?: string;
    }>(),
    cookie,
  };
}

/**
 * An order as the orders service announces it, priced from `ticket` as the API showed it (price
 * in currency units; title and version as given, or those of a freshly listed 'concert').
 */
export const anOrderCreated = (
  ticket: { id: string; price: number; title?: string; version?: number; userId?: string },
  orderId = randomUUID(),
) => ({
  id: orderId,
  version: 0,
  status: 'created' as const,
  userId: randomUUID(),
  expiresAt: new Date(Date.now() + 900_000).toISOString(),
  ticket: {
    id: ticket.id,
    price: Math.round(ticket.price * 100),
    version: ticket.version ?? 0,
    title: ticket.title ?? 'concert',
    sellerId: ticket.userId ?? randomUUID(),
  },
});
