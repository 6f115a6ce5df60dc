import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { makeEvent } from '@ticketing/common';
import { TestPaymentProvider } from '../src/providers/test-provider.ts';
import { orderCancelledListener } from '../src/entry-points/events/order-cancelled.listener.ts';
import { orderCompletedListener } from '../src/entry-points/events/order-completed.listener.ts';
import { orderConfirmedListener } from '../src/entry-points/events/order-confirmed.listener.ts';
import { anOrder, startPayments } from './fixtures.ts';

describe('payments listeners: the orders replica', () => {
  let p: ServiceHarness;
  const provider = new TestPaymentProvider();
  beforeAll(async () => ({ harness: p } = await startPayments(provider)));
  afterAll(() => p.close());
  const replica = async (id: string) =>
    (
      await p.database.pool.query('select user_id, price_cents, status, version from orders where id = $1', [
        id,
      ])
    ).rows[0];

  it('order:created keeps the buyer, price in cents, status and version', async () => {
    const order = await anOrder(p, { priceCents: 1234, confirmed: false });
    expect(await replica(order.id)).toEqual({
      user_id: order.userId,
      price_cents: 1234,
      status: 'created',
      version: 0,
    });
  });

  it('order:confirmed makes it payable (awaiting:payment) at version 1, once; the price is unchanged', async () => {
    const order = await anOrder(p, { priceCents: 1234, confirmed: false });
    const event = makeEvent('order:confirmed', { id: order.id, version: 1, ticket: order.ticket });
    expect(await p.deliver(orderConfirmedListener, event)).toEqual({ kind: 'ack' });
    expect(await p.deliver(orderConfirmedListener, event)).toEqual({ kind: 'ack' });
    expect(await replica(order.id)).toMatchObject({
      status: 'awaiting:payment',
      version: 1,
      price_cents: 1234,
    });
  });

  it('order:confirmed that arrives after the cancellation it precedes changes nothing', async () => {
    const order = await anOrder(p, { confirmed: false });
    await p.deliver(orderCancelledListener(provider), { id: order.id, version: 2, ticket: order.ticket });
    expect(await replica(order.id)).toMatchObject({ status: 'created', version: 0 }); // waits for v1
    await p.deliver(orderConfirmedListener, { id: order.id, version: 1, ticket: order.ticket });
    await p.deliver(orderCancelledListener(provider), { id: order.id, version: 2, ticket: order.ticket });
    expect(await replica(order.id)).toMatchObject({ status: 'cancelled', version: 2 });
    await p.deliver(orderConfirmedListener, { id: order.id, version: 1, ticket: order.ticket });
    expect(await replica(order.id)).toMatchObject({ status: 'cancelled', version: 2 });
  });

  it('order:cancelled applies version 1 on top of 0, once', async () => {
    const order = await anOrder(p, { confirmed: false });
    const event = makeEvent('order:cancelled', { id: order.id, version: 1, ticket: order.ticket });
    expect(await p.deliver(orderCancelledListener(provider), event)).toEqual({ kind: 'ack' });
    expect(await p.deliver(orderCancelledListener(provider), event)).toEqual({ kind: 'ack' });
    expect(await replica(order.id)).toMatchObject({ status: 'cancelled', version: 1 });
  });

  it('order:completed moves the replica to complete at the same version; an old version is ignored', async () => {
    const order = await anOrder(p);
    expect(
      await p.deliver(orderCompletedListener, {
        id: order.id,
        version: 2,
        userId: order.userId,
        ticket: order.ticket,
      }),
    ).toEqual({ kind: 'ack' });
    expect(await replica(order.id)).toMatchObject({ status: 'complete', version: 2 });
    expect(
      await p.deliver(orderCancelledListener(provider), { id: order.id, version: 2, ticket: order.ticket }),
    ).toEqual({ kind: 'ack' });
    expect(await replica(order.id)).toMatchObject({ status: 'complete', version: 2 });
  });
});
