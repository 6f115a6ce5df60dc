/**
 * One order: what it is for, its status, the time left to pay, and the payment form while it can
 * be paid. Status changes arrive through events a few milliseconds after the action that causes
 * them (the tickets service confirms or rejects a new order, a payment completes it, the end of the
 * window cancels it), so while the order is being confirmed, and after a payment or the end of
 * the window, the page polls the order until the change shows, without a reload. Pay is offered
 * only once the reservation is confirmed, at the price this page shows.
 */
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiError, friendlyMessage } from '../api.ts';
import { Countdown } from '../components/Countdown.tsx';
import { FormErrors } from '../components/Field.tsx';
import { hasExpired, isConfirming, isOpen, OrderStatusBadge } from '../components/OrderStatus.tsx';
import { PaymentForm } from '../components/PaymentForm.tsx';
import { formatMoney } from '../format.ts';
import { useLoad, useTitle } from '../hooks.ts';
import { signInPath } from '../session.tsx';
import { NotFound } from './NotFoundPage.tsx';

const POLL_MS = 400;
const POLL_FOR_MS = 30_000;

export function OrderPage() {
  const { id = '' } = useParams();
  const order = useLoad(() => api.getOrder(id), id);
  const config = useLoad(() => api.paymentConfig(), 'payment-config');
  const [paid, setPaid] = useState(false);
  const [expired, setExpired] = useState(false);
  const [waitedTooLong, setWaitedTooLong] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [cancelErrors, setCancelErrors] = useState<string[]>([]);
  useTitle(order.data ? `Order: ${order.data.ticket.title}` : 'Order');

  const open = order.data ? isOpen(order.data) : false;
  const confirming = order.data ? isConfirming(order.data) : false;
  const status = order.data?.status;
  const watching = open && (confirming || paid || expired);
  const { setData } = order;
  useEffect(() => {
    if (!watching) return;
    let live = true;
    const started = Date.now();
    const poll = async () => {
      if (Date.now() - started > POLL_FOR_MS) {
        clearInterval(timer);
        if (live) setWaitedTooLong(true);
        return;
      }
      try {
        const fresh = await api.getOrder(id);
        if (live && fresh.status !== status) setData(fresh);
      } catch {
        // A failed poll is retried by the next tick.
      }
    };
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [watching, status, id, setData]);

  if (order.error?.status === 404 || order.error?.status === 400) return <NotFound what="order" />;
  if (order.error?.status === 401) {
    return (
      <div className="alert alert-error" role="alert">
        <p>This order belongs to another account, or your session has ended.</p>
        <p>
          <Link to="/orders">See your orders</Link> or{' '}
          <Link to={signInPath(`/orders/${id}`)}>sign in again</Link>.
        </p>
      </div>
    );
  }
  if (order.error && !order.data) {
    return (
      <div className="alert alert-error" role="alert">
        <p>{order.error.message}</p>
        <button type="button" className="button button-secondary button-small" onClick={order.reload}>
          Try again
        </button>
      </div>
    );
  }
  if (!order.data) return <p className="muted loading">Loading your order…</p>;

  const current = order.data;
  const payable = current.status === 'awaiting:payment' && !expired && !paid;
  const rejected = current.status === 'cancelled' && current.cancelledBy === 'rejected';

  async function cancel() {
    setCancelling(true);
    setCancelErrors([]);
    try {
      await api.cancelOrder(current.id);
      setData(await api.getOrder(current.id));
    } catch (error) {
      setCancelErrors(
        error instanceof ApiError ? error.items.map(friendlyMessage) : ['Could not cancel the order.'],
      );
    } finally {
      setCancelling(false);
    }
  }

  return (
    <div className={`order-layout${payable ? ' split' : ''}`}>
      <p className="breadcrumb">
        <Link to="/orders">← My orders</Link>
      </p>
      <section className="card order-summary" aria-labelledby="order-title">
        <p className="eyebrow">Order</p>
        <h1 id="order-title">
          <Link to={`/tickets/${current.ticket.id}`} className="plain-link">
            {current.ticket.title}
          </Link>
        </h1>
        <dl className="facts">
          <div>
            <dt>Price</dt>
            <dd>{formatMoney(current.ticket.price)}</dd>
          </div>
          <div>
            <dt>Status</dt>
            <dd>
              <OrderStatusBadge order={current} expired={expired} />
            </dd>
          </div>
          {((open && !paid) || expired) && (
            <div className="facts-wide">
              <dt>Time left to pay</dt>
              <dd>
                <Countdown expiresAt={current.expiresAt} onExpire={() => setExpired(true)} />
              </dd>
            </div>
          )}
        </dl>

        {current.status === 'complete' && (
          <div className="alert alert-success" role="status">
            <p>
              <strong>Payment received — your order is complete.</strong> The ticket is yours: its entry code
              is in My tickets.
            </p>
          </div>
        )}
        {current.status === 'complete' && (
          <div className="actions">
            {/* The ticket passes to its buyer a moment after the payment: the page waits for it. */}
            <Link
              to="/tickets/mine"
              state={{ expecting: current.ticket.id }}
              className="button button-primary"
            >
              My tickets
            </Link>
            <Link to="/orders" className="button button-secondary">
              See all my orders
            </Link>
            <Link to="/" className="button button-ghost">
              Browse more tickets
            </Link>
          </div>
        )}
        {confirming && !expired && (
          <div className="alert alert-info" role="status">
            <p>
              {waitedTooLong
                ? 'Your reservation is taking longer than usual to confirm. This page updates by itself.'
                : `Confirming your reservation at ${formatMoney(current.ticket.price)}…`}
            </p>
          </div>
        )}
        {rejected && (
          <div className="alert alert-neutral" role="status">
            <p>
              <strong>This ticket could not be reserved for you.</strong>{' '}
              {current.cancelReason ?? 'The ticket changed before your reservation reached it.'} Nothing was
              charged.
            </p>
            <p>
              <Link to={`/tickets/${current.ticket.id}`}>See the ticket as it is now</Link> or{' '}
              <Link to="/">browse other tickets</Link>.
            </p>
          </div>
        )}
        {open && paid && (
          <div className="alert alert-info" role="status">
            <p>
              {waitedTooLong
                ? 'Your payment was accepted. The order will show as paid shortly.'
                : 'Payment accepted. Confirming your order…'}
            </p>
          </div>
        )}
        {((current.status === 'cancelled' && !rejected) || (open && expired && !paid)) && (
          <div className="alert alert-neutral" role="status">
            <p>
              {expired || hasExpired(current)
                ? 'This reservation expired before it was paid, so the ticket went back on sale.'
                : 'This order was cancelled and the ticket went back on sale.'}
            </p>
            <p>
              <Link to={`/tickets/${current.ticket.id}`}>See the ticket</Link> or{' '}
              <Link to="/">browse other tickets</Link>.
            </p>
          </div>
        )}
      </section>

      {payable && (
        <section className="card" aria-labelledby="pay-title">
          <h2 id="pay-title">Payment</h2>
          {config.data ? (
            <PaymentForm
              orderId={current.id}
              amount={current.ticket.price}
              config={config.data}
              onPaid={() => setPaid(true)}
            />
          ) : config.error ? (
            <div className="alert alert-error" role="alert">
              <p>Payments are unavailable right now: {config.error.message}</p>
              <button type="button" className="button button-secondary button-small" onClick={config.reload}>
                Try again
              </button>
            </div>
          ) : (
            <p className="muted loading">Loading the payment form…</p>
          )}
          <div className="cancel-order">
            <FormErrors messages={cancelErrors} />
            <button
              type="button"
              className="button button-ghost button-small"
              onClick={() => void cancel()}
              disabled={cancelling}
            >
              Cancel order
            </button>
          </div>
        </section>
      )}
    </div>
  );
}
