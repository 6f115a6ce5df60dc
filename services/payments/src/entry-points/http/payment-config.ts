import { Type } from 'typebox';
import type { HttpApp } from '@ticketing/common';
import type { PaymentProvider } from '../../providers/payment-provider.ts';
import { TEST_CARDS } from '../../providers/test-provider.ts';

/** Tells the web client which payment form to show: the test cards, or Stripe's card element. */
export async function paymentConfigRoute(
  app: HttpApp,
  provider: PaymentProvider,
  stripePublishableKey: string | undefined,
): Promise<void> {
  app.get(
    '/api/payments/config',
    {
      schema: {
        summary: 'Which payment provider is active',
        tags: ['payments'],
        response: {
          200: Type.Object({
            provider: Type.Union([Type.Literal('test'), Type.Literal('stripe')]),
            stripePublishableKey: Type.Optional(Type.String()),
            testCards: Type.Optional(Type.Object({ success: Type.String(), declined: Type.String() })),
          }),
        },
      },
    },
    async () =>
      provider.name === 'stripe'
        ? { provider: 'stripe' as const, ...(stripePublishableKey ? { stripePublishableKey } : {}) }
        : { provider: 'test' as const, testCards: { ...TEST_CARDS } },
  );
}
