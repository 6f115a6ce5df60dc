import { randomUUID } from 'node:crypto';
import { createServiceHarness, type ServiceHarness } from '@ticketing/common/testing';
import { paymentsService } from '../src/service.ts';
import { TestPaymentProvider } from '../src/providers/test-provider.ts';
import type { PaymentProvider } from '../src/providers/payment-provider.ts';
import { orderCreatedListener } from '../src/entry-points/events/order-created.listener.ts';
import { orderConfirmedListener } from '../src/entry-points/events/order-confirmed.listener.ts';

export async function startPayments(
  provider: PaymentProvider = new TestPaymentProvider(),
  options: { replicaWaitMs?: number } = {},
) {
  const harness = await createServiceHarness(paymentsService({ provider, currency: 'usd', ...options }));
  return { harness, provider };
}

/** An order as the orders service announced it, replicated into payments, owned by `userId`. */
/**
 * An order as the orders service announced it, replicated into payments, owned by `userId`, and
 * confirmed (`awaiting:payment`, version 1) unless `confirmed` is false.
 */
export async function anOrder(
  harness: ServiceHarness,
  options: {
    id?: string;
    userId?: string;
    priceCents?: number;
    expiresInMs?: number;
    confirmed?: boolean;
  } = {},
) {
  const order = {
    id: options.id ?? randomUUID(),
    version: 0,
    status: 'created' as const,
    userId: options.userId ?? randomUUID(),
    expiresAt: new Date(Date.now() + (options.expiresInMs ?? 900_000)).toISOString(),
    ticket: {
      id: randomUUID(),
      price: options.priceCents ?? 2000,
      version: 0,
      title: 'concert',
      sellerId: randomUUID(),
    },
  };
  const outcome = await harness.deliver(orderCreatedListener, order);
  if (outcome.kind !== 'ack') throw new Error(`order not replicated: ${JSON.stringify(outcome)}`);
  if (options.confirmed === false) return order;
  const confirmed = await harness.deliver(orderConfirmedListener, {
    id: order.id,
    version: 1,
    ticket: { id: order.ticket.id },
  });
  if (confirmed.kind !== 'ack') throw new Error(`order not confirmed: ${JSON.stringify(confirmed)}`);
  return { ...order, version: 1 };
}

/** A signed-in buyer with an open order of their own. */
export async function aBuyerWithAnOrder(
  harness: ServiceHarness,
  options: { priceCents?: number; expiresInMs?: number; confirmed?: boolean } = {},
) {
  const { user, cookie } = await harness.signIn();
  const order = await anOrder(harness, { ...options, userId: user.id });
  const pay = (token: string, as = cookie) =>
    harness.app.inject({
      method: 'POST',
      url: '/api/payments',
      headers: { cookie: as },
      payload: { orderId: order.id, token },
    });
  return { user, cookie, order, pay };
}
