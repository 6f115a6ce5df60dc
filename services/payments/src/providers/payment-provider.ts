/**
 * Where money moves. Two implementations: Stripe (PaymentIntents, used when STRIPE_SECRET_KEY is
 * set) and a clearly simulated test provider (the default). Both are idempotent per
 * `idempotencyKey`: asking twice for the same attempt charges once.
 */
export interface ChargeRequest {
  amountCents: number;
  currency: string;
  /** A test token (`tok_visa`) or a Stripe payment method id (`pm_...`) from the client. */
  token: string;
  idempotencyKey: string;
  orderId: string;
}

export interface PaymentProvider {
  readonly name: 'stripe' | 'test';
  /** Resolves with the provider's id of the charge; throws PaymentDeclinedError or ProviderUnavailableError. */
  charge(request: ChargeRequest): Promise<{ chargeId: string }>;
  refund(chargeId: string, idempotencyKey: string): Promise<void>;
}

/** The card was refused: a message the buyer can read, and the order stays payable. */
export class PaymentDeclinedError extends Error {}

/** The provider could not be reached or failed: the outcome is unknown until retried. */
export class ProviderUnavailableError extends Error {}
