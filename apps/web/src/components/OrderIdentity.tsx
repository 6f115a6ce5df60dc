import { formatDateTime, orderNumber } from '../format.ts';

/** An order's number and when it was placed, as two facts of a `<dl>`: the order page and the receipt. */
export function OrderIdentity({ order }: { order: { id: string; createdAt: string } }) {
  return (
    <>
      <div>
        <dt>Order number</dt>
        <dd className="order-number">{orderNumber(order.id)}</dd>
      </div>
      <div>
        <dt>Placed</dt>
        <dd>
          <time dateTime={order.createdAt}>{formatDateTime(order.createdAt)}</time>
        </dd>
      </div>
    </>
  );
}
