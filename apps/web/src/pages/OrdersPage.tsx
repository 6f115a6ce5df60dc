import { Link } from 'react-router';
import { api } from '../api.ts';
import { OrderStatusBadge, orderStatusLabel } from '../components/OrderStatus.tsx';
import { formatDateTime, formatMoney, orderNumber } from '../format.ts';
import { useLoad, useTitle } from '../hooks.ts';
import { LoadFailed } from '../components/LoadFailed.tsx';

const payBy = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit' });

export function OrdersPage() {
  useTitle('My orders');
  const orders = useLoad(() => api.listOrders(), 'orders');

  return (
    <section aria-labelledby="orders-title">
      <div className="page-head">
        <h1 id="orders-title">My orders</h1>
      </div>
      {orders.error ? (
        <LoadFailed message={orders.error.message} onRetry={orders.reload} />
      ) : !orders.data ? (
        <p className="muted loading">Loading your orders…</p>
      ) : orders.data.length === 0 ? (
        <div className="empty card">
          <h2>No orders yet</h2>
          <p className="muted">Tickets you reserve or buy show up here.</p>
          <Link to="/" className="button button-primary">
            Browse tickets
          </Link>
        </div>
      ) : (
        <ul className="order-list" aria-label="Orders">
          {orders.data.map((order) => (
            <li key={order.id}>
              <Link to={`/orders/${order.id}`} className="order-row">
                <span className="order-row-main">
                  <span className="order-row-title">{order.ticket.title}</span>
                  <span className="order-row-meta">
                    Order <span className="order-number">{orderNumber(order.id)}</span> ·{' '}
                    <time dateTime={order.createdAt}>{formatDateTime(order.createdAt)}</time>
                  </span>
                  {orderStatusLabel(order) === 'Awaiting payment' && (
                    <span className="order-row-meta">Pay by {payBy.format(new Date(order.expiresAt))}</span>
                  )}
                </span>
                <span className="order-row-price">{formatMoney(order.ticket.price)}</span>
                <OrderStatusBadge order={order} />
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
