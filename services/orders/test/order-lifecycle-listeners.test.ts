import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { expirationCompleteListener } from '../src/entry-points/events/expiration-complete.listener.ts';
import { paymentCreatedListener } from '../src/entry-points/events/payment-created.listener.ts';
import { aTicket, anOrder, startOrders } from './fixtures.ts';

describe('orders listeners: expiry and payment', () => {
  let o: ServiceHarness;
  beforeAll(async () => (o = await startOrders()));
  afterAll(() => o.close());
  const stored = async (id: string) =>
    (await o.database.pool.query('select status, version from orders where id = $1', [id])).rows[0];
  const eventsOf = async (id: string) =>
    (await o.outbox()).filter((e) => (e.data as { id?: string }).id === id).map((e) => e.type);
  const anOpenOrder = async () => (await anOrder(o, (await aTicket(o)).id)).order;
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

    it('changes nothing and publishes nothing for a completed order', async () => {
      const order = await anOpenOrder();
      await o.deliver(paymentCreatedListener, payment(order.id));
      expect(await o.deliver(expirationCompleteListener, { orderId: order.id })).toEqual({ kind: 'ack' });
      expect(await stored(order.id)).toEqual({ status: 'complete', version: 1 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:completed']);
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
      expect(await stored(order.id)).toEqual({ status: 'complete', version: 1 });
      const completed = (await o.outbox('order:completed')).find((e) => e.data.id === order.id);
      expect(completed?.data).toEqual({ id: order.id, version: 1, ticket: { id: expect.any(String) } });
    });

    it('has one effect when delivered twice', async () => {
      const order = await anOpenOrder();
      const event = payment(order.id);
      await o.deliver(paymentCreatedListener, event);
      await o.deliver(paymentCreatedListener, { ...event, id: randomUUID() }); // another payment event, same order
      expect(await stored(order.id)).toEqual({ status: 'complete', version: 1 });
      expect(await eventsOf(order.id)).toEqual(['order:created', 'order:completed']);
    });

    it('leaves a cancelled order cancelled (the payment is refunded by payments)', async () => {
      const order = await anOpenOrder();
      await o.deliver(expirationCompleteListener, { orderId: order.id });
      expect(await o.deliver(paymentCreatedListener, payment(order.id))).toEqual({ kind: 'ack' });
      expect(await stored(order.id)).toEqual({ status: 'cancelled', version: 1 });
    });
  });
});
