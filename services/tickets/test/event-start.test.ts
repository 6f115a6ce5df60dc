import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createServiceHarness, type ServiceHarness } from '@ticketing/common/testing';
import { eventStartedListener } from '../src/entry-points/events/event-started.listener.ts';
import { orderCancelledListener } from '../src/entry-points/events/order-cancelled.listener.ts';
import { orderCreatedListener } from '../src/entry-points/events/order-created.listener.ts';
import { findTicket } from '../src/data-access/tickets-repository.ts';
import { ticketsService } from '../src/service.ts';
import { aTicket, anOrderCreated } from './fixtures.ts';

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe('a listing ends when its event starts', () => {
  let t: ServiceHarness;
  // No read cache: these tests move a start into the past behind the service's back.
  beforeAll(async () => (t = await createServiceHarness(ticketsService({ cacheTtlMs: 0 }))));
  afterAll(() => t.close());

  const stored = async (id: string) => (await findTicket(t.database.db, id))!;
  const updatesOf = async (id: string) => (await t.outbox('ticket:updated')).filter((e) => e.data.id === id);
  /** The clock reaches the ticket's start: its start is moved to a second ago. */
  const startNow = async (id: string) => {
    await t.database.db.execute(
      sql`update tickets set starts_at = now() - interval '1 second' where id = ${id}`,
    );
    return (await stored(id)).startsAt!;
  };
  const forSale = async (query = '') =>
    (await t.app.inject({ url: `/api/tickets?${query}` })).json<{ id: string }[]>().map((x) => x.id);

  it('leaves the search the moment the event starts, before anything else runs', async () => {
    const { ticket } = await aTicket(t, { title: 'soon', startsAt: inDays(1) });
    expect(await forSale('q=soon')).toEqual([ticket.id]);
    await startNow(ticket.id);
    for (const sort of ['newest', 'price', 'startsAt'])
      expect(await forSale(`q=soon&sort=${sort}`)).toEqual([]);
  });

  it('refuses the owner’s listing and edits once it has started', async () => {
    const { ticket, cookie } = await aTicket(t, { startsAt: inDays(1) });
    await startNow(ticket.id);
    for (const [method, url, payload] of [
      ['POST', `/api/tickets/${ticket.id}/listing`, { price: 20 }],
      ['PUT', `/api/tickets/${ticket.id}`, { title: 'concert', price: 15 }],
    ] as const) {
      const response = await t.app.inject({ method, url, headers: { cookie }, payload });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ errors: [{ message: 'This event has already started' }] });
    }
  });

  it('refuses to hold the ticket for an order that reaches it after the start', async () => {
    const { ticket } = await aTicket(t, { startsAt: inDays(1) });
    await startNow(ticket.id);
    const order = anOrderCreated(ticket);
    expect(await t.deliver(orderCreatedListener, order)).toEqual({ kind: 'ack' });
    const [rejection] = (await t.outbox('ticket:reservation-rejected')).filter(
      (e) => e.data.orderId === order.id,
    );
    expect(rejection!.data).toEqual({ id: ticket.id, orderId: order.id, reason: 'started' });
    expect((await stored(ticket.id)).orderId).toBeNull();
  });

  it('unlists the ticket when the start’s timer fires, once, and announces it', async () => {
    const { ticket } = await aTicket(t, { startsAt: inDays(1) });
    const startsAt = new Date(await startNow(ticket.id)).toISOString();
    expect(await t.deliver(eventStartedListener, { ticketId: ticket.id, startsAt })).toEqual({ kind: 'ack' });
    expect(await t.deliver(eventStartedListener, { ticketId: ticket.id, startsAt })).toEqual({ kind: 'ack' });
    expect((await stored(ticket.id)).listed).toBe(false);
    const updates = await updatesOf(ticket.id);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.data).toMatchObject({ listed: false, startsAt });
    const stranger = await t.signIn();
    const seen = await t.app.inject({
      url: `/api/tickets/${ticket.id}`,
      headers: { cookie: stranger.cookie },
    });
    expect(seen.statusCode).toBe(404);
  });

  it('ignores the timer of a start that has moved since', async () => {
    const { ticket } = await aTicket(t, { startsAt: inDays(1) });
    const outcome = await t.deliver(eventStartedListener, { ticketId: ticket.id, startsAt: inDays(2) });
    expect(outcome).toEqual({ kind: 'ack' });
    expect((await stored(ticket.id)).listed).toBe(true);
    expect(await updatesOf(ticket.id)).toHaveLength(0);
  });

  it('leaves a ticket held at the start unlisted when its order lets go', async () => {
    const { ticket } = await aTicket(t, { startsAt: inDays(1) });
    const order = anOrderCreated(ticket);
    await t.deliver(orderCreatedListener, order);
    const startsAt = new Date(await startNow(ticket.id)).toISOString();
    await t.deliver(eventStartedListener, { ticketId: ticket.id, startsAt });
    expect(await stored(ticket.id)).toMatchObject({ listed: false, orderId: order.id });
    // The order expires at the start too (its expiry never runs past it) and lets go.
    await t.deliver(orderCancelledListener, { id: order.id, version: 1, ticket: { id: ticket.id } });
    expect(await stored(ticket.id)).toMatchObject({ listed: false, orderId: null });
    expect(await forSale()).not.toContain(ticket.id);
  });

  it('leaves unlisted a ticket released after its start even if the timer has not fired yet', async () => {
    const { ticket } = await aTicket(t, { startsAt: inDays(1) });
    const order = anOrderCreated(ticket);
    await t.deliver(orderCreatedListener, order);
    await startNow(ticket.id);
    await t.deliver(orderCancelledListener, { id: order.id, version: 1, ticket: { id: ticket.id } });
    expect(await stored(ticket.id)).toMatchObject({ listed: false, orderId: null });
  });
});
