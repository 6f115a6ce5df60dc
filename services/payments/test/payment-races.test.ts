import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type ServiceHarness } from '@ticketing/common/testing';
import { TestPaymentProvider } from '../src/providers/test-provider.ts';
import { ProviderUnavailableError, type ChargeRequest } from '../src/providers/payment-provider.ts';
import { orderCancelledListener } from '../src/entry-points/events/order-cancelled.listener.ts';
import { startReconciler } from '../src/domain/reconciler.ts';
import { aBuyerWithAnOrder, startPayments } from './fixtures.ts';

/** A provider whose next charge runs `during` before answering, or fails as if unreachable. */
class ScriptedProvider extends TestPaymentProvider {
  during?: () => Promise<void>;
  unavailable = false;
  calls = 0;
  override async charge(request: ChargeRequest) {
    this.calls += 1;
    if (this.unavailable) throw new ProviderUnavailableError('connection reset');
    const result = await super.charge(request);
    const hook = this.during;
    this.during = undefined;
    await hook?.();
    return result;
  }
}

describe('payments when the order ends or the process fails mid-payment', () => {
  let p: ServiceHarness;
  let provider: ScriptedProvider;
  beforeAll(async () => {
    provider = new ScriptedProvider();
    ({ harness: p } = await startPayments(provider));
  });
  afterAll(() => p.close());
  const paymentOf = async (orderId: string) =>
    (await p.database.pool.query('select status from payments where order_id = $1', [orderId])).rows.map(
      (r) => r.status,
    );
  const published = async (orderId: string) =>
    (await p.outbox('payment:created')).filter((e) => e.data.orderId === orderId);

  it('refunds, and publishes nothing, when the order is cancelled while the card is charged', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p);
    provider.during = async () => {
      expect(
        await p.deliver(orderCancelledListener(provider), {
          id: order.id,
          version: order.version + 1,
          ticket: order.ticket,
        }),
      ).toEqual({ kind: 'ack' });
    };
    const response = await pay('tok_visa');
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].message).toMatch(/refunded/);
    expect(await paymentOf(order.id)).toEqual(['refunded']);
    expect([...provider.charges.values()].find((c) => c.orderId === order.id)?.refunded).toBe(true);
    expect(await published(order.id)).toHaveLength(0);
  });

  it('refunds a payment when the cancellation of its order arrives after it succeeded', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p);
    expect((await pay('tok_visa')).statusCode).toBe(201);
    await p.deliver(orderCancelledListener(provider), {
      id: order.id,
      version: order.version + 1,
      ticket: order.ticket,
    });
    expect(await paymentOf(order.id)).toEqual(['refunded']);
    expect([...provider.charges.values()].find((c) => c.orderId === order.id)?.refunded).toBe(true);
  });

  it('does not apply a cancellation from the future (version skipped) and asks for a retry', async () => {
    const { order } = await aBuyerWithAnOrder(p);
    const outcome = await p.deliver(orderCancelledListener(provider), {
      id: order.id,
      version: 3,
      ticket: order.ticket,
    });
    expect(outcome.kind).toBe('retry');
  });

  it('finishes a payment left pending by an unreachable provider, charging once', async () => {
    const { order, pay } = await aBuyerWithAnOrder(p);
    provider.unavailable = true;
    expect((await pay('tok_visa')).statusCode).toBe(503);
    expect(await paymentOf(order.id)).toEqual(['pending']);
    expect((await pay('tok_visa')).statusCode).toBe(400); // one attempt at a time
    provider.unavailable = false;
    const reconciler = startReconciler(
      { db: p.database.db, provider, currency: 'usd', logger: silentLogger },
      { everyMs: 50, olderThanMs: 0 },
    );
    try {
      await expect.poll(() => paymentOf(order.id), { timeout: 5_000 }).toEqual(['succeeded']);
    } finally {
      await reconciler.stop();
    }
    expect([...provider.charges.values()].filter((c) => c.orderId === order.id)).toHaveLength(1);
    expect(await published(order.id)).toHaveLength(1);
  });
});
