import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type ServiceHarness } from '@ticketing/common/testing';
import { makeEvent } from '@ticketing/common';
import { orderCreatedListener } from '../src/entry-points/events/order-created.listener.ts';
import { orderCancelledListener } from '../src/entry-points/events/order-cancelled.listener.ts';
import { findTicket } from '../src/data-access/tickets-repository.ts';
import { aTicket, anOrderCreated, startTickets } from './fixtures.ts';

describe('tickets listeners', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startTickets()));
  afterAll(() => t.close());
  const stored = async (id: string) => (await findTicket(t.database.db, id))!;
  const updatesOf = async (id: string) => (await t.outbox('ticket:updated')).filter((e) => e.data.id === id);
  const cancelled = (orderId: string, ticketId: string) => ({
    id: orderId,
    version: 1,
    ticket: { id: ticketId },
  });

  describe('order:created', () => {
    it('sets the orderId of the ticket, acks, and publishes ticket:updated with the new version', async () => {
      const { ticket } = await aTicket(t);
      const order = anOrderCreated(ticket);
      expect(await t.deliver(orderCreatedListener, order)).toEqual({ kind: 'ack' });
      expect(await stored(ticket.id)).toMatchObject({ orderId: order.id, version: 1 });
      const updates = await updatesOf(ticket.id);
      expect(updates.map((e) => e.data)).toEqual([
        expect.objectContaining({ version: 1, orderId: order.id }),
      ]);
    });

    it('has one effect when the same event is delivered twice', async () => {
      const { ticket } = await aTicket(t);
      const event = makeEvent('order:created', anOrderCreated(ticket));
      await t.deliver(orderCreatedListener, event);
      await t.deliver(orderCreatedListener, event);
      expect((await stored(ticket.id)).version).toBe(1);
      expect(await updatesOf(ticket.id)).toHaveLength(1);
    });

    it('dead-letters an order for a ticket that does not exist', async () => {
      const outcome = await t.deliver(orderCreatedListener, anOrderCreated({ id: randomUUID(), price: 1 }));
      expect(outcome).toEqual({ kind: 'dead-letter', reason: expect.stringMatching(/unknown ticket/) });
    });

    it('does not reserve for an order whose cancellation arrived first', async () => {
      const { ticket } = await aTicket(t);
      const order = anOrderCreated(ticket);
      await t.deliver(orderCancelledListener, cancelled(order.id, ticket.id));
      await t.deliver(orderCreatedListener, order);
      expect(await stored(ticket.id)).toMatchObject({ orderId: null, version: 0 });
    });

    it('does not reserve for an order cancelled while it waited for the ticket', async () => {
      const { ticket } = await aTicket(t);
      const order = anOrderCreated(ticket);
      // A cancellation holds the ticket's lock, as releaseTicket does, and records the order.
      const cancelling = await t.database.pool.connect();
      try {
        await cancelling.query('begin');
        await cancelling.query('select 1 from tickets where id = $1 for update', [ticket.id]);
        await cancelling.query('insert into cancelled_orders (order_id) values ($1)', [order.id]);
        const delivered = t.deliver(orderCreatedListener, order);
        delivered.catch(() => {}); // awaited below; not unhandled meanwhile
        // The reservation waits for the lock...
        await waitFor(async () => {
          const { rows } = await t.database.pool.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
              where datname = current_database() and wait_event = 'transactionid'
                and query like '%for update%'`,
          );
          return rows[0]!.n === 1;
        }, 5_000);
        // ...and gets it once the cancellation has committed: it must see that cancellation.
        await cancelling.query('commit');
        expect(await delivered).toEqual({ kind: 'ack' });
      } finally {
        cancelling.release(true); // closed, not pooled: a failure above leaves its transaction open
      }
      expect(await stored(ticket.id)).toMatchObject({ orderId: null, version: 0 });
      expect(await updatesOf(ticket.id)).toEqual([]);
    });
  });

  describe('order:created priced from another price or title (the reservation saga)', () => {
    const rejectionsOf = async (orderId: string) =>
      (await t.outbox('ticket:reservation-rejected')).filter((e) => e.data.orderId === orderId);
    const edit = (id: string, cookie: string, payload: { title: string; price: number }) =>
      t.app.inject({ method: 'PUT', url: `/api/tickets/${id}`, headers: { cookie }, payload });

    it('rejects an order priced before an edit the tickets service committed first, and holds nothing', async () => {
      const { ticket, cookie } = await aTicket(t, { price: 10 });
      const order = anOrderCreated(ticket); // priced at 10 from a replica that has not seen the edit
      expect((await edit(ticket.id, cookie, { title: 'concert', price: 55 })).statusCode).toBe(200);
      expect(await t.deliver(orderCreatedListener, order)).toEqual({ kind: 'ack' });
      expect(await stored(ticket.id)).toMatchObject({ orderId: null, version: 1, priceCents: 5500 });
      expect((await rejectionsOf(order.id)).map((e) => e.data)).toEqual([
        { id: ticket.id, orderId: order.id, reason: 'changed' },
      ]);
      expect((await updatesOf(ticket.id)).map((e) => e.data.version)).toEqual([1]); // the edit only
    });

    it("rejects an order whose title is no longer the ticket's, even at the same price", async () => {
      const { ticket, cookie } = await aTicket(t, { price: 10 });
      const order = anOrderCreated(ticket);
      await edit(ticket.id, cookie, { title: 'concert, row B', price: 10 });
      await t.deliver(orderCreatedListener, order);
      expect(await rejectionsOf(order.id)).toHaveLength(1);
      expect((await stored(ticket.id)).orderId).toBeNull();
    });

    it('holds for an order priced from a version that moved only by an earlier hold and release', async () => {
      const { ticket } = await aTicket(t, { price: 10 });
      const first = anOrderCreated(ticket);
      await t.deliver(orderCreatedListener, first);
      await t.deliver(orderCancelledListener, cancelled(first.id, ticket.id));
      const second = anOrderCreated(ticket); // priced from version 0; the ticket is at version 2
      expect(await t.deliver(orderCreatedListener, second)).toEqual({ kind: 'ack' });
      expect(await stored(ticket.id)).toMatchObject({ orderId: second.id, version: 3 });
      expect(await rejectionsOf(second.id)).toEqual([]);
    });

    it('holds at the price the buyer saw when the seller changed it and back before the order arrived', async () => {
      const { ticket, cookie } = await aTicket(t, { price: 10 });
      const order = anOrderCreated(ticket);
      await edit(ticket.id, cookie, { title: 'concert', price: 55 });
      await edit(ticket.id, cookie, { title: 'concert', price: 10 });
      await t.deliver(orderCreatedListener, order);
      expect(await stored(ticket.id)).toMatchObject({ orderId: order.id, priceCents: 1000, version: 3 });
    });

    it('has one effect when a rejected order is delivered again, and never holds for it later', async () => {
      const { ticket, cookie } = await aTicket(t, { price: 10 });
      const order = makeEvent('order:created', anOrderCreated(ticket));
      await edit(ticket.id, cookie, { title: 'concert', price: 55 });
      await t.deliver(orderCreatedListener, order);
      await t.deliver(orderCreatedListener, order);
      // Even the same order announced anew, after the seller went back to its price:
      await edit(ticket.id, cookie, { title: 'concert', price: 10 });
      await t.deliver(orderCreatedListener, { ...order, id: randomUUID() });
      expect(await rejectionsOf(order.data.id)).toHaveLength(1);
      expect((await stored(ticket.id)).orderId).toBeNull();
    });

    it('refuses an edit once the hold is committed (400), and the order keeps its price', async () => {
      const { ticket, cookie } = await aTicket(t, { price: 10 });
      await t.deliver(orderCreatedListener, anOrderCreated(ticket));
      const refused = await edit(ticket.id, cookie, { title: 'concert', price: 55 });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().errors[0].message).toBe('Cannot edit a reserved ticket');
      expect(await stored(ticket.id)).toMatchObject({ priceCents: 1000 });
    });

    it("serialises an edit and a hold on the ticket's row: exactly one of them wins, never both", async () => {
      for (let i = 0; i < 10; i++) {
        const { ticket, cookie } = await aTicket(t, { price: 10 });
        const order = anOrderCreated(ticket);
        const [edited] = await Promise.all([
          edit(ticket.id, cookie, { title: 'concert', price: 55 }),
          t.deliver(orderCreatedListener, order),
        ]);
        const held = (await stored(ticket.id)).orderId === order.id;
        const rejected = (await rejectionsOf(order.id)).length === 1;
        // The edit first: the order is rejected. The hold first: the edit is refused.
        expect(edited.statusCode === 200 ? [false, true] : [true, false]).toEqual([held, rejected]);
        expect((await stored(ticket.id)).priceCents).toBe(edited.statusCode === 200 ? 5500 : 1000);
      }
    });
  });

  describe('order:cancelled', () => {
    it('clears the orderId, acks, and publishes ticket:updated', async () => {
      const { ticket } = await aTicket(t);
      const order = anOrderCreated(ticket);
      await t.deliver(orderCreatedListener, order);
      expect(await t.deliver(orderCancelledListener, cancelled(order.id, ticket.id))).toEqual({
        kind: 'ack',
      });
      expect(await stored(ticket.id)).toMatchObject({ orderId: null, version: 2 });
      const updates = await updatesOf(ticket.id);
      expect(updates.at(-1)!.data).toMatchObject({ version: 2 });
      expect(updates.at(-1)!.data).not.toHaveProperty('orderId');
    });

    it('never releases a ticket that a newer order holds (a late cancellation of an older order)', async () => {
      const { ticket } = await aTicket(t);
      const older = anOrderCreated(ticket);
      const newer = anOrderCreated(ticket);
      await t.deliver(orderCreatedListener, older);
      // The older order was cancelled in orders; its cancellation is late: the newer one waits.
      expect(await t.deliver(orderCreatedListener, newer)).toMatchObject({ kind: 'retry', early: true });
      await t.deliver(orderCancelledListener, cancelled(older.id, ticket.id));
      expect(await stored(ticket.id)).toMatchObject({ orderId: null, version: 2 });
      expect(await t.deliver(orderCreatedListener, newer)).toEqual({ kind: 'ack' }); // redelivered
      expect(await stored(ticket.id)).toMatchObject({ orderId: newer.id, version: 3 });
    });

    it('never hands the ticket to an older, cancelled order whose events both arrive late', async () => {
      const { ticket } = await aTicket(t);
      const older = anOrderCreated(ticket);
      const newer = anOrderCreated(ticket);
      await t.deliver(orderCreatedListener, newer); // the older order's events were held up
      expect(await t.deliver(orderCreatedListener, older)).toMatchObject({ kind: 'retry', early: true });
      await t.deliver(orderCancelledListener, cancelled(older.id, ticket.id));
      expect(await t.deliver(orderCreatedListener, older)).toEqual({ kind: 'ack' }); // known cancelled
      expect(await stored(ticket.id)).toMatchObject({ orderId: newer.id, version: 1 });
      expect(await updatesOf(ticket.id)).toHaveLength(1);
    });
  });
});
