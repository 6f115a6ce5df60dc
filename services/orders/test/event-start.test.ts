import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { ticketUpdatedListener } from '../src/entry-points/events/ticket-updated.listener.ts';
import { aTicket, anOrder, startOrders } from './fixtures.ts';

describe('orders and the start of the event', () => {
  let o: ServiceHarness;
  beforeAll(async () => (o = await startOrders(900)));
  afterAll(() => o.close());

  const order = async (ticketId: string) => {
    const { cookie } = await o.signIn();
    return o.app.inject({ method: 'POST', url: '/api/orders', headers: { cookie }, payload: { ticketId } });
  };

  it('refuses an order once the event has started', async () => {
    const ticket = await aTicket(o, { startsAt: new Date(Date.now() + 60_000).toISOString() });
    // The start moves into the past, as the clock would carry it (a replica's version of it).
    const started = { ...ticket, version: 1, startsAt: new Date(Date.now() - 1_000).toISOString() };
    expect(await o.deliver(ticketUpdatedListener, started)).toEqual({ kind: 'ack' });
    const response = await order(ticket.id);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      errors: [{ message: 'This event has already started', field: 'ticketId' }],
    });
  });

  it('never lets an order outlive the start: it expires then, and says so', async () => {
    const startsAt = new Date(Date.now() + 120_000).toISOString();
    const ticket = await aTicket(o, { startsAt });
    const { order: placed } = await anOrder(o, ticket.id);
    expect(placed.expiresAt).toBe(startsAt);
    const [created] = (await o.outbox('order:created')).filter((e) => e.data.id === placed.id);
    expect(created!.data.expiresAt).toBe(startsAt);
  });

  it('keeps the usual window for an event that starts after it', async () => {
    const ticket = await aTicket(o, { startsAt: new Date(Date.now() + 86_400_000).toISOString() });
    const before = Date.now();
    const { order: placed } = await anOrder(o, ticket.id);
    const window = Date.parse(placed.expiresAt) - before;
    expect(window).toBeGreaterThanOrEqual(899_000);
    expect(window).toBeLessThanOrEqual(901_000);
  });
});
