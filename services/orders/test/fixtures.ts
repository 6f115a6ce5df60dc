import { randomUUID } from 'node:crypto';
import { createServiceHarness, type ServiceHarness } from '@ticketing/common/testing';
import type { EventData } from '@ticketing/common';
import { ordersService } from '../src/service.ts';
import { ticketCreatedListener } from '../src/entry-points/events/ticket-created.listener.ts';
import { ticketUpdatedListener } from '../src/entry-points/events/ticket-updated.listener.ts';

export const startOrders = (expirationSeconds = 900): Promise<ServiceHarness> =>
  createServiceHarness(ordersService({ expirationSeconds }));

/** A ticket as the tickets service announced it (price in cents), replicated into orders. */
export async function aTicket(
  harness: ServiceHarness,
  overrides: { price?: number; sellerId?: string; startsAt?: string } = {},
) {
  const ticket: EventData<'ticket:created'> = {
    id: randomUUID(),
    version: 0,
    title: 'concert',
    price: overrides.price ?? 2000,
    faceValue: overrides.price ?? 2000,
    userId: overrides.sellerId ?? randomUUID(),
    listed: true,
    timesSold: 0,
    ...(overrides.startsAt === undefined ? {} : { startsAt: overrides.startsAt }),
  };
  const outcome = await harness.deliver(ticketCreatedListener, ticket);
  if (outcome.kind !== 'ack') throw new Error(`ticket not replicated: ${JSON.stringify(outcome)}`);
  return ticket;
}

/**
 * The tickets service's answer to an order: the ticket's next version (`version`), held by the
 * order, as `ticket:updated` announces it. Confirms the order when it applies.
 */
export const heldFor = (ticket: EventData<'ticket:created'>, orderId: string, version = 1) => ({
  ...ticket,
  version,
  orderId,
});

export async function confirm(
  harness: ServiceHarness,
  ticket: EventData<'ticket:created'>,
  orderId: string,
  version = 1,
) {
  const outcome = await harness.deliver(ticketUpdatedListener, heldFor(ticket, orderId, version));
  if (outcome.kind !== 'ack') throw new Error(`order not confirmed: ${JSON.stringify(outcome)}`);
}

export async function anOrder(harness: ServiceHarness, ticketId: string, cookie?: string) {
  const session = cookie ?? (await harness.signIn()).cookie;
  const response = await harness.app.inject({
    method: 'POST',
    url: '/api/orders',
    headers: { cookie: session },
    payload: { ticketId },
  });
  if (response.statusCode !== 201) throw new Error(`order failed: ${response.body}`);
  return {
    order: response.json<{
      id: string;
      version: number;
      status: string;
      createdAt: string;
      expiresAt: string;
    }>(),
    cookie: session,
  };
}
