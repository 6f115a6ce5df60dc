import { Type } from 'typebox';
import { loadConfig, type Logger } from '@ticketing/common';
import type { PaymentProvider } from './payment-provider.ts';
import { StripePaymentProvider } from './stripe-provider.ts';
import { TestPaymentProvider } from './test-provider.ts';

export * from './payment-provider.ts';
export { StripePaymentProvider } from './stripe-provider.ts';
export { TestPaymentProvider, TEST_CARDS } from './test-provider.ts';

export const PaymentsConfig = Type.Object({
  STRIPE_SECRET_KEY: Type.Optional(Type.String({ minLength: 1 })),
  STRIPE_PUBLISHABLE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  /** Where the Stripe SDK sends requests; only for pointing it at a local stand-in in tests. */
  STRIPE_API_BASE: Type.Optional(Type.String({ minLength: 1 })),
  PAYMENTS_CURRENCY: Type.String({ default: 'usd', minLength: 3, maxLength: 3 }),
});

export interface PaymentsSettings {
  provider: PaymentProvider;
  currency: string;
  stripePublishableKey?: string;
  /** How long a payment waits for its order to be payable here (tests shorten it). */
  replicaWaitMs?: number;
}

/** Stripe when STRIPE_SECRET_KEY is set; otherwise the simulated test provider, loudly. */
export function paymentsSettingsFromEnv(logger: Logger, env = process.env): PaymentsSettings {
  const config = loadConfig(PaymentsConfig, env);
  if (!config.STRIPE_SECRET_KEY) {
    logger.warn('payments are SIMULATED by the test provider (set STRIPE_SECRET_KEY to charge real cards)');
    return { provider: new TestPaymentProvider(), currency: config.PAYMENTS_CURRENCY };
  }
  const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : undefined;
  return {
    provider: new StripePaymentProvider({
      secretKey: config.STRIPE_SECRET_KEY,
      ...(base
        ? {
            host: base.hostname,
            port: Number(base.port) || undefined,
            protocol: base.protocol === 'http:' ? 'http' : 'https',
          }
        : {}),
    }),
    currency: config.PAYMENTS_CURRENCY,
    stripePublishableKey: config.STRIPE_PUBLISHABLE_KEY,
  };
}
