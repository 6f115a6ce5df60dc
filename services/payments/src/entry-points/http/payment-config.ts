import { Type } from 'typebox';
import { PUBLIC, success, type HttpApp } from '@ticketing/common';
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
        operationId: 'getPaymentConfig',
        summary: 'Which payment provider is active',
        tags: ['payments'],
        security: PUBLIC,
        response: {
          200: success(
            Type.Object({
              provider: Type.Union([Type.Literal('test'), Type.Literal('stripe')]),
              stripePublishableKey: Type.Optional(
                Type.String({ description: 'With Stripe, when a publishable key is configured' }),
              ),
              testCards: Type.Optional(
                Type.Object(
                  { success: Type.String(), declined: Type.String() },
                  { description: 'With the test provider: the tokens of its two cards' },
                ),
              ),
            }),
            'The provider, and what the client needs to take a card with it',
          ),
        },
      },
    },
    async () =>
      provider.name === 'stripe'
        ? { provider: 'stripe' as const, ...(stripePublishableKey ? { stripePublishableKey } : {}) }
        : { provider: 'test' as const, testCards: { ...TEST_CARDS } },
  );
}
