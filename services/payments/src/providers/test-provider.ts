/**
 * The simulated payment provider, for development and tests: no money moves. Like a real
 * provider it is idempotent per key (within the process) and refunds what it charged.
 *
 * - `tok_visa` succeeds
 * - `tok_chargeDeclined` is declined
 * - anything else is refused as an unknown test card
 */
import { randomUUID } from 'node:crypto';
import { PaymentDeclinedError, type ChargeRequest, type PaymentProvider } from './payment-provider.ts';

export const TEST_CARDS = {
  success: 'tok_visa',
  declined: 'tok_chargeDeclined',
} as const;

export class TestPaymentProvider implements PaymentProvider {
  readonly name = 'test' as const;
  /** Every successful charge, for tests and the consistency checker. */
  readonly charges = new Map<
    string,
    { chargeId: string; amountCents: number; orderId: string; refunded: boolean }
  >();

  async charge(request: ChargeRequest): Promise<{ chargeId: string }> {
    const previous = this.charges.get(request.idempotencyKey);
    if (previous) return { chargeId: previous.chargeId };
    if (request.token === TEST_CARDS.declined) throw new PaymentDeclinedError('Your card was declined.');
    if (request.token !== TEST_CARDS.success) {
      throw new PaymentDeclinedError(
        `Unknown test card. Use ${TEST_CARDS.success} (succeeds) or ${TEST_CARDS.declined} (declined).`,
      );
    }
    const chargeId = `ch_test_${randomUUID().replace(/-/g, '')}`;
    this.charges.set(request.idempotencyKey, {
      chargeId,
      amountCents: request.amountCents,
      orderId: request.orderId,
      refunded: false,
    });
    return { chargeId };
  }

  async refund(chargeId: string): Promise<void> {
    for (const charge of this.charges.values()) if (charge.chargeId === chargeId) charge.refunded = true;
  }
}
