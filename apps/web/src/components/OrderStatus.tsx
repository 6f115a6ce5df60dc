/** An order's status in words a buyer uses, with a colour that matches. */
import type { Order } from '../api.ts';

/** Open: not paid nor cancelled yet (its window may have closed a moment ago). */
export const isOpen = (order: Pick<Order, 'status'>) =>
  order.status === 'created' || order.status === 'awaiting:payment';

/** Placed, and waiting for the tickets service to hold the ticket at its price (milliseconds, as a rule). */
export const isConfirming = (order: Pick<Order, 'status'>) => order.status === 'created';

/** The order ended because its window closed unpaid: the API says so, or the clock does. */
export const hasExpired = (order: Pick<Order, 'status' | 'expiresAt' | 'cancelledBy'>) =>
  order.status === 'cancelled'
    ? order.cancelledBy === 'expiry'
    : isOpen(order) && Date.parse(order.expiresAt) <= Date.now();

/**
 * `expired`: the page saw the window close. The system cancels an unpaid order a moment after
 * its window closes, and records that it expired; "Expired" says why, where a bare "Cancelled"
 * would not.
 */
export function orderStatusLabel(
  order: Pick<Order, 'status' | 'expiresAt' | 'cancelledBy'>,
  expired = false,
): string {
  if (order.status === 'complete') return 'Paid';
  if (expired || hasExpired(order)) return 'Expired';
  if (order.status === 'cancelled') return order.cancelledBy === 'rejected' ? 'Not reserved' : 'Cancelled';
  if (isConfirming(order)) return 'Confirming';
  return 'Awaiting payment';
}

const tone: Record<string, string> = {
  Paid: 'success',
  Cancelled: 'neutral',
  Expired: 'neutral',
  'Not reserved': 'neutral',
  Confirming: 'info',
  'Awaiting payment': 'warning',
};

export function OrderStatusBadge({
  order,
  expired,
}: {
  order: Pick<Order, 'status' | 'expiresAt' | 'cancelledBy'>;
  expired?: boolean;
}) {
  const label = orderStatusLabel(order, expired);
  return <span className={`badge badge-${tone[label] ?? 'neutral'}`}>{label}</span>;
}
