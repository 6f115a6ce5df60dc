/**
 * Finishes payment attempts left `pending` (the process died while the provider was charging, or
 * the provider was unreachable): replays the charge with the same idempotency key, which charges
 * at most once, and records the outcome like the original request would have.
 */
import { HttpError, type BackgroundTask } from '@ticketing/common';
import { stalePendingPayments } from '../data-access/payments-repository.ts';
import { finishPayment, type PaymentsDeps } from './payments.ts';

export function startReconciler(
  deps: PaymentsDeps,
  options: { everyMs?: number; olderThanMs?: number } = {},
): BackgroundTask {
  const everyMs = options.everyMs ?? 5_000;
  const olderThanMs = options.olderThanMs ?? 30_000;
  let running: Promise<void> = Promise.resolve();

  const reconcile = async () => {
    for (const payment of await stalePendingPayments(deps.db, olderThanMs)) {
      try {
        await finishPayment(deps, payment);
        deps.logger.info({ paymentId: payment.id }, 'reconciled a pending payment');
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        deps.logger.info({ paymentId: payment.id, outcome: error.message }, 'reconciled a pending payment');
      }
    }
  };
  const timer = setInterval(() => {
    running = running
      .then(reconcile)
      .catch((error: unknown) =>
        deps.logger.warn({ err: error }, 'payment reconciliation failed; will retry'),
      );
  }, everyMs);

  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
