import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { TestPaymentProvider } from '../src/providers/test-provider.ts';
import { orderCancelledListener } from '../src/entry-points/events/order-cancelled.listener.ts';
import { orderCompletedListener } from '../src/entry-points/events/order-completed.listener.ts';
import { orderConfirmedListener } from '../src/entry-points/events/order-confirmed.listener.ts';
import { aBuyerWithAnOrder, anOrder, startPayments } from './fixtures.ts';

const WAIT_MS = 400;

describe('POST /api/payments', () => {
  let p: ServiceHarness;
  let provider: TestPaymentProvider;
  beforeAll(async () => {
    provider = new TestPaymentProvider();
    ({ harness: p } = await startPayments(provider, { replicaWaitMs: WAIT_MS }));
  });
  afterAll(() => p.close());
  const chargesFor = (orderId: string) => [...provider.charges.values()].filter((c) => c.orderId === orderId);
  const paymentsOf = async (orderId: string) =>
    (
      await p.database.pool.query(
        'select status, amount_cents, provider_charge_id from payments where order_id = $1 order by created_at',
        [orderId],
      )
    ).rows;

  it('requires a session', async () => {
    const response = await p.app.inject({
      method: 'POST',
      url: '/api/payments',
      payload: { orderId: randomUUID(), token: 'tok_visa' },
    });
    expect(response.statusCode).toBe(401);
  });

  it.each([
    [{ token: 'tok_visa' }, 'orderId'],
    [{ orderId: randomUUID() }, 'token'],
    [{ orderId: 'x', token: 'tok_visa' }, 'orderId'],
  ])('rejects %j with 400 naming %s', async (payload, field) => {
    const { cookie } = await p.signIn();
    const response = await p.app.inject({
      method: 'POST',
      url: '/api/payments',
      headers: { cookie },
      payload,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('returns 404 for an unknown order', async () => {
    const { cookie } = await p.signIn();
    const response = await p.app.inject({
      method: 'POST',
      url: '/api/payments',
      headers: { cookie },
      payload: { orderId: randomUUID(), token: 'tok_visa' },
    });
    expect(response.statusCode).toBe(404);
  });

  it("returns 401 for someone else's order, and charges nothing", async () => {
    const { order, pay } = await aBuyerWithAnOrder(p);
    const { cookie: stranger } = await p.signIn();
    expect((await pay('tok_visa', stranger)).statusCode).toBe(401);
    expect(chargesFor(order.id)).toHaveLength(0);
  });

  it('charges the price in cents, records the payment and publishes payment:created', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p, { priceCents: 3550 });
    const response = await pay('tok_visa');
    expect(response.statusCode).toBe(201);
    const { id } = response.json();
    expect(response.json()).toEqual({
      id: expect.any(String),
      orderId: order.id,
      amount: 35.5,
      currency: 'usd',
      status: 'succeeded',
    });
    expect(chargesFor(order.id)).toEqual([expect.objectContaining({ amountCents: 3550, refunded: false })]);
    const [payment] = await paymentsOf(order.id);
    expect(payment).toEqual({
      status: 'succeeded',
      amount_cents: 3550,
      provider_charge_id: chargesFor(order.id)[0]!.chargeId,
    });
    const events = (await p.outbox('payment:created')).filter((e) => e.data.orderId === order.id);
    expect(events.map((e) => e.data)).toEqual([
      { id, orderId: order.id, providerChargeId: payment.provider_charge_id },
    ]);
  });

  it('refuses an order the tickets service has not confirmed yet, after waiting for it, and charges nothing', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p, { confirmed: false });
    const started = Date.now();
    const response = await pay('tok_visa');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      { message: 'This reservation is not confirmed yet; try again in a moment', field: 'orderId' },
    ]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 50); // it waited for the confirmation
    expect(chargesFor(order.id)).toHaveLength(0);
  });

  it('pays an order confirmed while the payment waits for it', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p, { confirmed: false, priceCents: 990 });
    const paying = pay('tok_visa');
    await p.deliver(orderConfirmedListener, { id: order.id, version: 1, ticket: order.ticket });
    const response = await paying;
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ orderId: order.id, amount: 9.9 });
  });

  it('charges the price the order was placed at, whatever the ticket costs later', async () => {
    // The replica's price comes from order:created only; no later event carries another one.
    const { order, pay } = await aBuyerWithAnOrder(p, { priceCents: 1000 });
    await p.deliver(orderConfirmedListener, { id: order.id, version: 1, ticket: order.ticket }); // redelivered
    expect((await pay('tok_visa')).json()).toMatchObject({ amount: 10 });
    expect(chargesFor(order.id)).toEqual([expect.objectContaining({ amountCents: 1000 })]);
  });

  it('refuses to charge an order twice', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p);
    expect((await pay('tok_visa')).statusCode).toBe(201);
    const again = await pay('tok_visa');
    expect(again.statusCode).toBe(400);
    expect(chargesFor(order.id)).toHaveLength(1);
  });

  it('refuses an order that is complete', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p);
    await p.deliver(orderCompletedListener, {
      id: order.id,
      version: order.version + 1,
      userId: order.userId,
      ticket: order.ticket,
    });
    const response = await pay('tok_visa');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].message).toBe('Order is already paid');
  });

  it('refuses a cancelled order', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p);
    await p.deliver(orderCancelledListener(provider), {
      id: order.id,
      version: order.version + 1,
      ticket: order.ticket,
    });
    const response = await pay('tok_visa');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].message).toBe('Cannot pay for a cancelled order');
    expect(chargesFor(order.id)).toHaveLength(0);
  });

  it('refuses an order whose window has closed even before the expiry event arrives', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p, { expiresInMs: -1_000 });
    const response = await pay('tok_visa');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].message).toBe('Order has expired');
    expect(chargesFor(order.id)).toHaveLength(0);
  });

  it('answers a declined card with a readable 400 and leaves the order payable', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p);
    const declined = await pay('tok_chargeDeclined');
    expect(declined.statusCode).toBe(400);
    expect(declined.json()).toEqual({ errors: [{ message: 'Your card was declined.', field: 'token' }] });
    expect(await paymentsOf(order.id)).toEqual([expect.objectContaining({ status: 'failed' })]);
    expect((await pay('tok_visa')).statusCode).toBe(201);
    expect(chargesFor(order.id)).toHaveLength(1);
  });

  it('refuses an unknown test token with 400', async () => {
    const { pay } = await aBuyerWithAnOrder(p);
    const response = await pay('tok_whatever');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].message).toMatch(/Unknown test card/);
  });

  it('charges at most once when payments for one order arrive simultaneously', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p);
    const responses = await Promise.all(Array.from({ length: 10 }, () => pay('tok_visa')));
    expect(responses.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.statusCode === 400)).toHaveLength(9);
    expect(chargesFor(order.id)).toHaveLength(1);
    expect((await p.outbox('payment:created')).filter((e) => e.data.orderId === order.id)).toHaveLength(1);
  });

  it('tells the web client the simulated provider and its test cards', async () => {
    const response = await p.app.inject({ url: '/api/payments/config' });
    expect(response.json()).toEqual({
      provider: 'test',
      testCards: { success: 'tok_visa', declined: 'tok_chargeDeclined' },
    });
  });
});

describe('POST /api/payments right after the order was created', () => {
  it('waits for the order to reach the replica instead of answering 404', async () => {
    const { harness: p, provider } = await startPayments();
    try {
      const { user, cookie } = await p.signIn();
      const orderId = randomUUID();
      const paying = p.app.inject({
        method: 'POST',
        url: '/api/payments',
        headers: { cookie },
        payload: { orderId, token: 'tok_visa' },
      });
      await new Promise((resolve) => setTimeout(resolve, 300)); // the order:created event is still on its way
      await anOrder(p, { userId: user.id, id: orderId });
      expect((await paying).statusCode).toBe(201);
      expect((provider as TestPaymentProvider).charges.size).toBe(1);
    } finally {
      await p.close();
    }
  });
});
