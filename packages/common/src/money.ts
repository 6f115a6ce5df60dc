/**
 * Money is integer cents inside the system and a number in the currency unit (35.5) in JSON. These
 * are the only two conversions.
 */

/** Cents of an amount in the currency unit; undefined when it has more than 2 decimals. */
export function toCents(amount: number): number | undefined {
  const cents = Math.round(amount * 100);
  return Math.abs(amount * 100 - cents) > 1e-6 ? undefined : cents;
}

/** The amount in the currency unit, as JSON shows it. */
export const fromCents = (cents: number): number => cents / 100;
