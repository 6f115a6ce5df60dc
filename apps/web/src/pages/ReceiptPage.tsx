/**
 * The receipt of a paid order, to keep or print: the marketplace, the order's number and dates,
 * the ticket, what was paid and by whom. The print stylesheet leaves only the receipt on paper.
 */
import { Link, useParams } from 'react-router';
import { api } from '../api.ts';
import { formatDateTime, formatMoney, orderNumber } from '../format.ts';
import { useLoad, useTitle } from '../hooks.ts';
import { useSession } from '../session.tsx';
import { NotFound } from './NotFoundPage.tsx';
import { LoadFailed } from '../components/LoadFailed.tsx';
import { OrderIdentity } from '../components/OrderIdentity.tsx';

export function ReceiptPage() {
  const { id = '' } = useParams();
  const { user } = useSession();
  const order = useLoad(() => api.getOrder(id), id);
  useTitle(order.data ? `Receipt ${orderNumber(order.data.id)}` : 'Receipt');

  if (order.error?.status === 404 || order.error?.status === 400) return <NotFound what="order" />;
  if (order.error && !order.data) {
    return <LoadFailed message={order.error.message} onRetry={order.reload} />;
  }
  if (!order.data) return <p className="muted loading">Loading your receipt…</p>;

  const current = order.data;
  const number = orderNumber(current.id);
  if (current.status !== 'complete') {
    return (
      <section className="card narrow" aria-labelledby="receipt-title">
        <h1 id="receipt-title">No receipt yet</h1>
        <p className="muted">Order {number} is not paid, so it has no receipt.</p>
        <p>
          <Link to={`/orders/${current.id}`}>Back to the order</Link>
        </p>
      </section>
    );
  }

  return (
    <div className="receipt-layout">
      <p className="breadcrumb no-print">
        <Link to={`/orders/${current.id}`}>← Order {number}</Link>
      </p>
      <section className="card receipt" aria-labelledby="receipt-title">
        <p className="eyebrow">Ticketing · receipt</p>
        <h1 id="receipt-title">Receipt for order {number}</h1>
        <dl className="receipt-facts">
          <OrderIdentity order={current} />
          {current.completedAt && (
            <div>
              <dt>Paid</dt>
              <dd>
                <time dateTime={current.completedAt}>{formatDateTime(current.completedAt)}</time>
              </dd>
            </div>
          )}
          {user && (
            <div>
              <dt>Buyer</dt>
              <dd>{user.email}</dd>
            </div>
          )}
        </dl>
        <table className="receipt-lines">
          <caption className="visually-hidden">What was bought</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Amount</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>Ticket: {current.ticket.title}</td>
              <td>{formatMoney(current.ticket.price)}</td>
            </tr>
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total paid</th>
              <td>{formatMoney(current.ticket.price)}</td>
            </tr>
          </tfoot>
        </table>
        <p className="muted receipt-reference">Order reference: {current.id}</p>
        <div className="actions no-print">
          <button type="button" className="button button-primary" onClick={() => window.print()}>
            Print receipt
          </button>
          <Link to="/tickets/mine" className="button button-secondary">
            My tickets
          </Link>
        </div>
      </section>
    </div>
  );
}
