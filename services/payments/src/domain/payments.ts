/**
 * The rules of payments. An order can be paid by its buyer once the tickets service holds its
 * ticket at its price (`awaiting:payment`, learnt from `order:confirmed`) and until its window
 * closes (checked against the clock too: the replica may not have heard of the expiry yet). The
 * amount charged is the order's price, in integer cents, as `order:created` announced it: never a
 * later value of the ticket. Money is never taken twice for one order, nor kept for an order that
 * ended up cancelled:
 *
 * 1. In one transaction, with the replica row locked, the order is checked and a `pending` payment
 *    row is inserted. A unique index allows one pending-or-succeeded payment per order, so of two
 *    simultaneous attempts only one reaches the provider.
 * 2. The provider is called with an idempotency key derived from the order and this attempt, so a
 *    retried call (after a crash or a timeout) charges at most once.
 * 3. In a second transaction the outcome is recorded. If the order was cancelled in the meantime
 *    (it expired while the card was being charged), the charge is refunded instead of published;
 *    otherwise `payment:created` goes to the outbox with the success.
 *
 * A `pending` row whose process died between 1 and 3 is finished by the reconciler, which replays
 * step 2 with the same key. A cancellation that arrives after a success refunds the payment.
 */
import { randomUUID } from 'node:crypto';
import {
  BadRequestError,
  isUniqueViolation,
  NotAuthorizedError,
  NotFoundError,
  publishEvent,
  RetryLater,
  type CurrentUser,
  type Database,
  type EventData,
  type Executor,
  OrderStatus,
  PaymentStatus,
  HttpError,
  type Logger,
} from '@ticketing/common';
import {
  applyOrderVersion,
  findOrder,
  insertOrder,
  insertPayment,
  lockOrder,
  lockPayment,
  succeededPaymentOf,
  updatePayment,
  type Payment,
} from '../data-access/payments-repository.ts';
import {
  PaymentDeclinedError,
  ProviderUnavailableError,
  type PaymentProvider,
} from '../providers/payment-provider.ts';

export interface PaymentsDeps {
  db: Database;
  provider: PaymentProvider;
  currency: string;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** How long a payment waits for its order to be payable here (default `REPLICA_WAIT_MS`). */
  replicaWaitMs?: number;
}

const idempotencyKey = (payment: Pick<Payment, 'orderId' | 'id'>) =>
  `order-${payment.orderId}-payment-${payment.id}`;

/** A payment that went through, as the API shows it. */
export type PaymentReceipt = Pick<Payment, 'id' | 'orderId' | 'amountCents'> & {
  status: typeof PaymentStatus.Succeeded;
};

/** POST /api/payments: returns the recorded, successful payment, or throws an HttpError. */
export async function payForOrder(
  deps: PaymentsDeps,
  buyer: CurrentUser,
  input: { orderId: string; token: string },
): Promise<PaymentReceipt> {
  const payment = await startPayment(deps, buyer, input);
  return finishPayment(deps, payment);
}

/** How long a payment waits for an order to reach this replica, and to be confirmed. */
export const REPLICA_WAIT_MS = 3_000;

/**
 * An order created a moment ago may not have reached this service yet (its `order:created` is on
 * the way), or not be confirmed yet (the tickets service holds its ticket within milliseconds
 * as a rule): wait a little for both rather than refuse a buyer who pays right away.
 */
async function awaitPayable(db: Database, orderId: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const order = await findOrder(db, orderId);
    if ((order && order.status !== OrderStatus.Created) || Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startPayment(
  { db, provider, replicaWaitMs = REPLICA_WAIT_MS }: PaymentsDeps,
  buyer: CurrentUser,
  input: { orderId: string; token: string },
): Promise<Payment> {
  await awaitPayable(db, input.orderId, replicaWaitMs);
  try {
    return await db.transaction(async (tx) => {
      const order = await lockOrder(tx, input.orderId);
      if (!order) throw new NotFoundError('Order not found');
      if (order.userId !== buyer.id) throw new NotAuthorizedError();
      if (order.status === OrderStatus.Cancelled)
        throw new BadRequestError('Cannot pay for a cancelled order');
      if (order.status === OrderStatus.Complete) throw new BadRequestError('Order is already paid');
      if (order.expiresAt.getTime() <= Date.now()) throw new BadRequestError('Order has expired');
      if (order.status === OrderStatus.Created) {
        throw new BadRequestError('This reservation is not confirmed yet; try again in a moment', 'orderId');
      }
      return insertPayment(tx, {
        id: randomUUID(),
        orderId: order.id,
        status: PaymentStatus.Pending,
        amountCents: order.priceCents,
        provider: provider.name,
        token: input.token,
        providerChargeId: null,
        failureReason: null,
      });
    });
  } catch (error) {
    if (isUniqueViolation(error, 'payments_one_live_per_order')) {
      throw new BadRequestError('Order is already paid or a payment for it is in progress');
    }
    throw error;
  }
}

/** Charges a pending payment (again, idempotently) and records the outcome. */
export async function finishPayment(deps: PaymentsDeps, payment: Payment): Promise<PaymentReceipt> {
  let chargeId: string;
  try {
    ({ chargeId } = await deps.provider.charge({
      amountCents: payment.amountCents,
      currency: deps.currency,
      token: payment.token,
      idempotencyKey: idempotencyKey(payment),
      orderId: payment.orderId,
    }));
  } catch (error) {
    if (error instanceof PaymentDeclinedError) {
      await updatePayment(deps.db, payment.id, {
        status: PaymentStatus.Failed,
        failureReason: error.message,
      });
      throw new BadRequestError(error.message, 'token');
    }
    if (error instanceof ProviderUnavailableError) {
      deps.logger.warn(
        { err: error, paymentId: payment.id },
        'payment provider unavailable; the reconciler will retry',
      );
      throw new HttpError(503, 'The payment provider is unavailable; please try again shortly');
    }
    throw error;
  }

  const outcome = await deps.db.transaction(async (tx) => {
    const current = await lockPayment(tx, payment.id);
    if (current?.status !== PaymentStatus.Pending)
      return current?.status === PaymentStatus.Succeeded ? PaymentStatus.Succeeded : 'gone';
    const order = await lockOrder(tx, payment.orderId);
    if (order?.status === OrderStatus.Cancelled) {
      // The order ended while the card was charged: give the money back, publish nothing.
      await deps.provider.refund(chargeId, `refund-${payment.id}`);
      await updatePayment(tx, payment.id, {
        status: PaymentStatus.Refunded,
        providerChargeId: chargeId,
        failureReason: 'order cancelled while paying',
      });
      return PaymentStatus.Refunded;
    }
    await updatePayment(tx, payment.id, { status: PaymentStatus.Succeeded, providerChargeId: chargeId });
    await publishEvent(
      tx,
      'payment:created',
      { id: payment.id, orderId: payment.orderId, providerChargeId: chargeId },
      payment.orderId,
    );
    return PaymentStatus.Succeeded;
  });
  if (outcome === PaymentStatus.Refunded)
    throw new BadRequestError('The order was cancelled before the payment completed; it was refunded');
  if (outcome === 'gone') throw new BadRequestError('This payment attempt is no longer valid');
  return {
    id: payment.id,
    orderId: payment.orderId,
    amountCents: payment.amountCents,
    status: PaymentStatus.Succeeded,
  };
}

/** On `order:created`: the first version of the replica. */
export async function replicateNewOrder(tx: Executor, data: EventData<'order:created'>): Promise<void> {
  await insertOrder(tx, {
    id: data.id,
    userId: data.userId,
    priceCents: data.ticket.price,
    status: data.status,
    expiresAt: new Date(data.expiresAt),
    version: data.version,
  });
}

/** Applies an order's new version and status (version-aware); past versions are ignored. */
export async function replicateOrderStatus(
  tx: Executor,
  data: { id: string; version: number },
  status: Exclude<OrderStatus, typeof OrderStatus.Created>,
): Promise<boolean> {
  if (await applyOrderVersion(tx, data.id, data.version, status)) return true;
  const current = await findOrder(tx, data.id);
  if (current && current.version >= data.version) return false;
  throw new RetryLater(
    `order ${data.id} version ${data.version} arrived before version ${current ? current.version + 1 : 0}`,
  );
}

/**
 * On `order:cancelled`: the replica follows; money already taken for the order goes back. (A
 * payment still pending is refunded by `finishPayment` when it sees the cancellation.)
 */
export async function cancelOrderReplica(
  tx: Executor,
  provider: PaymentProvider,
  data: EventData<'order:cancelled'>,
  log: Logger,
): Promise<void> {
  if (!(await replicateOrderStatus(tx, data, OrderStatus.Cancelled))) return;
  const paid = await succeededPaymentOf(tx, data.id);
  if (!paid?.providerChargeId) return;
  await provider.refund(paid.providerChargeId, `refund-${paid.id}`);
  await updatePayment(tx, paid.id, {
    status: PaymentStatus.Refunded,
    failureReason: 'order cancelled after payment',
  });
  log.warn({ orderId: data.id, paymentId: paid.id }, 'refunded a payment for an order that was cancelled');
}
