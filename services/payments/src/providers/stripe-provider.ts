/**
 * Stripe, through the official SDK: a PaymentIntent confirmed at once, the amount in integer cents,
 * an idempotency key per payment attempt. The SDK's own host/port/protocol settings let tests point
 * it at a local stand-in.
 */
import Stripe from 'stripe';
import {
  PaymentDeclinedError,
  ProviderUnavailableError,
  type ChargeRequest,
  type PaymentProvider,
} from './payment-provider.ts';

export interface StripeSettings {
  secretKey: string;
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
}

export class StripePaymentProvider implements PaymentProvider {
  readonly name = 'stripe' as const;
  private readonly stripe: Stripe;

  constructor(settings: StripeSettings) {
    this.stripe = new Stripe(settings.secretKey, {
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
      ...(settings.host ? { host: settings.host } : {}),
      ...(settings.port ? { port: settings.port } : {}),
      ...(settings.protocol ? { protocol: settings.protocol } : {}),
    });
  }

  async charge(request: ChargeRequest): Promise<{ chargeId: string }> {
    // A Stripe.js payment method (pm_...) is used as is; a card token (tok_...) is wrapped.
    const method = request.token.startsWith('pm_')
      ? { payment_method: request.token }
      : { payment_method_data: { type: 'card' as const, card: { token: request.token } } };
    try {
      const intent = await this.stripe.paymentIntents.create(
        {
          amount: request.amountCents,
          currency: request.currency,
          confirm: true,
          allowed_payment_method_types: ['card'],
          // A card that needs 3-D Secure cannot be completed in this one-step flow: fail clearly.
          error_on_requires_action: true,
          metadata: { orderId: request.orderId },
          ...method,
        },
        { idempotencyKey: request.idempotencyKey },
      );
      if (intent.status !== 'succeeded') {
        throw new PaymentDeclinedError(
          'This card needs a verification step that is not supported; use another card.',
        );
      }
      return { chargeId: intent.id };
    } catch (error) {
      throw translate(error);
    }
  }

  async refund(chargeId: string, idempotencyKey: string): Promise<void> {
    try {
      await this.stripe.refunds.create({ payment_intent: chargeId }, { idempotencyKey });
    } catch (error) {
      throw translate(error);
    }
  }
}

function translate(error: unknown): Error {
  if (error instanceof PaymentDeclinedError) return error;
  if (error instanceof Stripe.errors.StripeCardError) return new PaymentDeclinedError(error.message);
  if (error instanceof Stripe.errors.StripeInvalidRequestError) {
    return new PaymentDeclinedError(error.message || 'The payment was refused.');
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ProviderUnavailableError(`Stripe request failed: ${message}`);
}
