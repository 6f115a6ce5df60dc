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
