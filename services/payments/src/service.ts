/**
 * The payments service: charges confirmed orders (`awaiting:payment`) through a payment provider
 * (Stripe, or a simulated test provider by default), keeps a versioned replica of orders,
 * publishes `payment:created`. Records `session:revoked` to refuse signed-out sessions.
 */
import { fileURLToPath } from 'node:url';
import { createLogger, sessionRevokedListener, type ServiceModule } from '@ticketing/common';
import { createPaymentRoute, PaymentJson } from './entry-points/http/create-payment.ts';
import { paymentConfigRoute } from './entry-points/http/payment-config.ts';
import { orderCreatedListener } from './entry-points/events/order-created.listener.ts';
import { orderConfirmedListener } from './entry-points/events/order-confirmed.listener.ts';
import { orderCancelledListener } from './entry-points/events/order-cancelled.listener.ts';
import { orderCompletedListener } from './entry-points/events/order-completed.listener.ts';
import { startReconciler } from './domain/reconciler.ts';
import { paymentsSettingsFromEnv, type PaymentsSettings } from './providers/index.ts';

export function paymentsService(
  settings: PaymentsSettings = paymentsSettingsFromEnv(createLogger('payments')),
): ServiceModule {
  const { provider, currency, replicaWaitMs } = settings;
  return {
    name: 'payments',
    migrations: fileURLToPath(new URL('../drizzle', import.meta.url)),
    async routes(app, context) {
      app.addSchema(PaymentJson); // a component of the OpenAPI document
      await createPaymentRoute(app, context, { db: context.database.db, provider, currency, replicaWaitMs });
      await paymentConfigRoute(app, provider, settings.stripePublishableKey);
    },
    listeners: [
      orderCreatedListener,
      orderConfirmedListener,
      orderCancelledListener(provider),
      orderCompletedListener,
      sessionRevokedListener,
    ],
    background: ({ database, logger }) => startReconciler({ db: database.db, provider, currency, logger }),
  };
}

export { paymentsSettingsFromEnv, type PaymentsSettings } from './providers/index.ts';
export { TestPaymentProvider, StripePaymentProvider, TEST_CARDS } from './providers/index.ts';
