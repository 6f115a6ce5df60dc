import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { makeEvent } from '@ticketing/common';
import { expirationCompleteListener } from '../src/entry-points/events/expiration-complete.listener.ts';
import { paymentCreatedListener } from '../src/entry-points/events/payment-created.listener.ts';
import { ticketUpdatedListener } from '../src/entry-points/events/ticket-updated.listener.ts';
import { ticketReservationRejectedListener } from '../src/entry-points/events/ticket-reservation-rejected.listener.ts';
import { aTicket, anOrder, confirm, heldFor, startOrders } from './fixtures.ts';
import { findTicket } from '../src/data-access/orders-repository.ts';

describe('orders listeners: confirmation, rejection, expiry and payment', () => {
  let o: ServiceHarness;
  beforeAll(async () => (o = await startOrders()));
  afterAll(() => o.close());
  const stored = async (id: string) =>
    (await o.database.pool.query('select status, version from orders where id = $1', [id])).rows[0];
  const eventsOf = async (id: string) =>
    (await o.outbox()).filter((e) => (e.data as { id?: string }).id === id).map((e) => e.type);
  /** An order the tickets service confirmed: awaiting payment, at version 1. */
  const anOpenOrder = async () => {
    const ticket = await aTicket(o);
    const { order } = await anOrder(o, ticket.id);
    await confirm(o, ticket, order.id);
    return order;
  };
  const rejected = (ticketId: string, orderId: string) => ({
    id: ticketId,
    orderId,
    reason: 'changed' as const,
  });

  describe('ticket:updated holding the order (the confirmation)', () => {
    it('moves a created order to awaiting:payment, bumps its version and publishes order:confirmed', async () => {
      const ticket = await aTicket(o);
      const { order, cookie } = await anOrder(o, ticket.id);
      expect(await o.deliver(ticketUpdatedListener, heldFor(ticket, order.id))).toEqual({ kind: 'ack' });
      expect(await stored(order.id)).toEqual({ status: 'awaiting:payment', version: 1 });
      const confirmed = (await o.outbox('order:confirmed')).filter((e) => e.data.id === order.id);
      expect(confirmed.map((e) => e.data)).toEqual([{ id: order.id, version: 1, ticket: { id: ticket.id } }]);
      const shown = await o.app.inject({ url: `/api/orders/${order.id}`, headers: { cookie } });
      expect(shown.json()).toMatchObject({ status: 'awaiting:payment', ticket: { price: 20 } });
    });

    it('has one effect when delivered twice', async () => {
      const ticket = await aTicket(o);
      const { order } = await anOrder(o, ticket.id);
      const event = makeEvent('ticket:updated', heldFor(ticket, order.id));
      await o.deliver(ticketUpdatedListener, event);
      await o.deliver(ticketUpdatedListener, event);
      expect(await stored(order.id)).toEqual({ status: 'awaiting:payment', version: 1 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:confirmed']);
    });

    it('confirms a hold that arrives before an earlier version at once; the earlier one then changes nothing', async () => {
      const ticket = await aTicket(o);
      const { order } = await anOrder(o, ticket.id);
      // v1 (an edit, say, seen by tickets before the order) is still on its way when v2 arrives.
      expect(await o.deliver(ticketUpdatedListener, heldFor(ticket, order.id, 2))).toEqual({ kind: 'ack' });
      expect(await stored(order.id)).toEqual({ status: 'awaiting:payment', version: 1 });
      expect(await o.deliver(ticketUpdatedListener, { ...ticket, version: 1 })).toEqual({ kind: 'ack' });
      expect(await findTicket(o.database.db, ticket.id)).toMatchObject({ version: 2 });
      expect(await stored(order.id)).toEqual({ status: 'awaiting:payment', version: 1 });
    });

    it('leaves an order cancelled meanwhile cancelled (its cancellation releases the ticket)', async () => {
      const ticket = await aTicket(o);
      const { order, cookie } = await anOrder(o, ticket.id);
      await o.app.inject({ method: 'DELETE', url: `/api/orders/${order.id}`, headers: { cookie } });
      expect(await o.deliver(ticketUpdatedListener, heldFor(ticket, order.id))).toEqual({ kind: 'ack' });
      expect(await stored(order.id)).toEqual({ status: 'cancelled', version: 1 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:cancelled']);
    });

    it('confirms nothing for a version that holds no order', async () => {
      const ticket = await aTicket(o);
      const { order } = await anOrder(o, ticket.id);
      await o.deliver(ticketUpdatedListener, { ...ticket, version: 1 });
      expect(await stored(order.id)).toEqual({ status: 'created', version: 0 });
    });
  });

  describe('ticket:reservation-rejected', () => {
    it('cancels a created order as rejected, with the reason its buyer sees, and publishes order:cancelled', async () => {
      const ticket = await aTicket(o);
      const { order, cookie } = await anOrder(o, ticket.id);
      expect(await o.deliver(ticketReservationRejectedListener, rejected(ticket.id, order.id))).toEqual({
        kind: 'ack',
      });
      expect(await stored(order.id)).toEqual({ status: 'cancelled', version: 1 });
      const cancelled = (await o.outbox('order:cancelled')).filter((e) => e.data.id === order.id);
      expect(cancelled.map((e) => e.data)).toEqual([{ id: order.id, version: 1, ticket: { id: ticket.id } }]);
      const shown = await o.app.inject({ url: `/api/orders/${order.id}`, headers: { cookie } });
      expect(shown.json()).toMatchObject({
        status: 'cancelled',
        cancelledBy: 'rejected',
        cancelReason: 'The seller changed this ticket before your reservation reached it',
      });
      // The ticket can be ordered again, at its new price once the replica has it.
      expect((await anOrder(o, ticket.id)).order.status).toBe('created');
    });

    it('has one effect when delivered twice', async () => {
      const ticket = await aTicket(o);
      const { order } = await anOrder(o, ticket.id);
      const event = makeEvent('ticket:reservation-rejected', rejected(ticket.id, order.id));
      await o.deliver(ticketReservationRejectedListener, event);
      await o.deliver(ticketReservationRejectedListener, { ...event, id: randomUUID() });
      expect(await stored(order.id)).toEqual({ status: 'cancelled', version: 1 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:cancelled']);
    });

    it('leaves an order its buyer cancelled first as the buyer cancelled it', async () => {
      const ticket = await aTicket(o);
      const { order, cookie } = await anOrder(o, ticket.id);
      await o.app.inject({ method: 'DELETE', url: `/api/orders/${order.id}`, headers: { cookie } });
      await o.deliver(ticketReservationRejectedListener, rejected(ticket.id, order.id));
      const shown = await o.app.inject({ url: `/api/orders/${order.id}`, headers: { cookie } });
      expect(shown.json()).toMatchObject({ status: 'cancelled', cancelledBy: 'buyer', version: 1 });
      expect(shown.json()).not.toHaveProperty('cancelReason');
    });

    it('dead-letters the rejection of an order it never had', async () => {
      const outcome = await o.deliver(
        ticketReservationRejectedListener,
        rejected(randomUUID(), randomUUID()),
      );
      expect(outcome.kind).toBe('dead-letter');
    });
  });
  const payment = (orderId: string) => ({
    id: randomUUID(),
    orderId,
    providerChargeId: `ch_${randomUUID()}`,
  });

  describe('expiration:complete', () => {
    it('cancels an open order as expired and publishes order:cancelled', async () => {
      const { order, cookie } = await anOrder(o, (await aTicket(o)).id);
      expect(await o.deliver(expirationCompleteListener, { orderId: order.id })).toEqual({ kind: 'ack' });
      expect(await stored(order.id)).toEqual({ status: 'cancelled', version: 1 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:cancelled']);
      // Its buyer sees why: the window closed, they did not cancel it.
      const shown = await o.app.inject({ url: `/api/orders/${order.id}`, headers: { cookie } });
      expect(shown.json()).toMatchObject({ status: 'cancelled', cancelledBy: 'expiry' });
    });

    it('cancels an order awaiting payment as expired', async () => {
      const order = await anOpenOrder();
      await o.deliver(expirationCompleteListener, { orderId: order.id });
      expect(await stored(order.id)).toEqual({ status: 'cancelled', version: 2 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:confirmed', 'order:cancelled']);
    });

    it('changes nothing and publishes nothing for a completed order', async () => {
      const order = await anOpenOrder();
      await o.deliver(paymentCreatedListener, payment(order.id));
      expect(await o.deliver(expirationCompleteListener, { orderId: order.id })).toEqual({ kind: 'ack' });
      expect(await stored(order.id)).toEqual({ status: 'complete', version: 2 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:confirmed', 'order:completed']);
    });

    it('changes nothing and publishes nothing for an order already cancelled', async () => {
      const { order, cookie } = await anOrder(o, (await aTicket(o)).id);
      await o.app.inject({ method: 'DELETE', url: `/api/orders/${order.id}`, headers: { cookie } });
      await o.deliver(expirationCompleteListener, { orderId: order.id });
      expect(await stored(order.id)).toEqual({ status: 'cancelled', version: 1 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:cancelled']);
      const shown = await o.app.inject({ url: `/api/orders/${order.id}`, headers: { cookie } });
      expect(shown.json()).toMatchObject({ cancelledBy: 'buyer' }); // the late expiry did not rewrite it
    });

    it('dead-letters the expiry of an order it never had', async () => {
      expect((await o.deliver(expirationCompleteListener, { orderId: randomUUID() })).kind).toBe(
        'dead-letter',
      );
    });
  });

  describe('payment:created', () => {
    it('completes the order, bumps its version and publishes order:completed', async () => {
      const order = await anOpenOrder();
      expect(await o.deliver(paymentCreatedListener, payment(order.id))).toEqual({ kind: 'ack' });
      expect(await stored(order.id)).toEqual({ status: 'complete', version: 2 });
      const completed = (await o.outbox('order:completed')).find((e) => e.data.id === order.id);
      expect(completed?.data).toEqual({
        id: order.id,
        version: 2,
        userId: expect.any(String),
        ticket: { id: expect.any(String) },
      });
    });

    it('has one effect when delivered twice', async () => {
      const order = await anOpenOrder();
      const event = payment(order.id);
      await o.deliver(paymentCreatedListener, event);
      await o.deliver(paymentCreatedListener, { ...event, id: randomUUID() }); // another payment event, same order
      expect(await stored(order.id)).toEqual({ status: 'complete', version: 2 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:confirmed', 'order:completed']);
    });

    it('dead-letters a payment for an order that was never confirmed (payments charges none)', async () => {
      const { order } = await anOrder(o, (await aTicket(o)).id);
      expect((await o.deliver(paymentCreatedListener, payment(order.id))).kind).toBe('dead-letter');
      expect(await stored(order.id)).toEqual({ status: 'created', version: 0 });
    });

    it('leaves a cancelled order cancelled (the payment is refunded by payments)', async () => {
      const order = await anOpenOrder();
      await o.deliver(expirationCompleteListener, { orderId: order.id });
      expect(await o.deliver(paymentCreatedListener, payment(order.id))).toEqual({ kind: 'ack' });
      expect(await stored(order.id)).toEqual({ status: 'cancelled', version: 2 });
    });
  });
});
