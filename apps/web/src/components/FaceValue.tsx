/**
 * What is printed on the ticket, written wherever a ticket is offered: "· face value $50.00" beside
 * a price, or "Face value $50.00" on a line of its own below one (a card too narrow for both on
 * one line, where a wrapped "· face value" would start its line with the dot).
 */
import { formatMoney } from '../format.ts';

export function FaceValue({ amount, ownLine = false }: { amount: number; ownLine?: boolean }) {
  return ownLine ? (
    <span className="face-value">Face value {formatMoney(amount)}</span>
  ) : (
    <span className="face-value">
      <span aria-hidden="true">· </span>face value {formatMoney(amount)}
    </span>
  );
}
