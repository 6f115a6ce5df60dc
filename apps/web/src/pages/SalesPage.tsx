/** The tickets the signed-in user sold: what each went for and when, newest first. */
import { Link } from 'react-router';
import { api } from '../api.ts';
import { formatMoney, orderNumber } from '../format.ts';
import { useLoad, useTitle } from '../hooks.ts';
import { LoadFailed } from '../components/LoadFailed.tsx';

const soldOn = new Intl.DateTimeFormat('en-US', {
  month: 'short',
  day: 'numeric',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});

export function SalesPage() {
  useTitle('My sales');
  const sales = useLoad(() => api.listSales(), 'sales');

  return (
    <section aria-labelledby="sales-title">
      <div className="page-head">
        <div>
          <h1 id="sales-title">My sales</h1>
          <p className="lead">Tickets you sold, newest first. Each buyer has their own entry code now.</p>
        </div>
        <Link to="/tickets/mine" className="button button-secondary">
          My tickets
        </Link>
      </div>
      {sales.error && !sales.data ? (
        <LoadFailed message={sales.error.message} onRetry={sales.reload} />
      ) : !sales.data ? (
        <p className="muted loading">Loading your sales…</p>
      ) : sales.data.length === 0 ? (
        <div className="empty card">
          <h2>No sales yet</h2>
          <p className="muted">When a buyer pays for one of your tickets, the sale shows up here.</p>
          <Link to="/tickets/new" className="button button-primary">
            Sell a ticket
          </Link>
        </div>
      ) : (
        <ul className="order-list" aria-label="Sales">
          {sales.data.map((sale) => (
            <li key={sale.orderId} className="order-row sale-row">
              <span className="order-row-main">
                <span className="order-row-title">{sale.ticket.title}</span>
                <span className="order-row-meta">
                  Order <span className="order-number">{orderNumber(sale.orderId)}</span> · Sold{' '}
                  <time dateTime={sale.soldAt}>{soldOn.format(new Date(sale.soldAt))}</time>
                </span>
              </span>
              <span className="order-row-price">{formatMoney(sale.price)}</span>
              <span className="badge badge-success">Paid</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
