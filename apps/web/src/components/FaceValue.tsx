/** "· face value $50.00", written beside a price wherever a ticket is offered. */
import { formatMoney } from '../format.ts';

export function FaceValue({ amount }: { amount: number }) {
  return (
    <span className="face-value">
      <span aria-hidden="true">· </span>face value {formatMoney(amount)}
    </span>
  );
}
