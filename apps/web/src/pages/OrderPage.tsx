/**
 * One order: what it is for, its status, the time left to pay, and the payment form while it can
 * be paid. Status changes arrive through events a few milliseconds after the action that causes
 * them (the tickets service confirms or rejects a new order, a payment completes it, the end of the
 * window cancels it), so while the order is being confirmed, and after a payment or the end of
 * the window, the page polls the order until the change shows, without a reload. Pay is offered
 * only once the reservation is confirmed, at the price this page shows.
 */
import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useAnnounce } from '../a11y.tsx';
import { api, ApiError, friendlyMessage, type Order, type Ticket } from '../api.ts';
import { Countdown } from '../components/Countdown.tsx';
import { FormErrors } from '../components/Field.tsx';
import { hasExpired, isConfirming, isOpen, OrderStatusBadge } from '../components/OrderStatus.tsx';
import { PaymentForm } from '../components/PaymentForm.tsx';
import { formatMoney, orderNumber } from '../format.ts';
import { useLoad, useTitle } from '../hooks.ts';
import { signInPath } from '../session.tsx';
import { NotFound } from './NotFoundPage.tsx';
import { LoadFailed } from '../components/LoadFailed.tsx';
import { OrderIdentity } from '../components/OrderIdentity.tsx';

const POLL_MS = 400;
const POLL_FOR_MS = 30_000;

export function OrderPage() {
  const { id = '' } = useParams();
  // One order's page state (paid, expired...) never carries over to another's ("Reserve again").
  return <OrderView key={id} id={id} />;
}

function OrderView({ id }: { id: string }) {
  const order = useLoad(() => api.getOrder(id), id);
  const config = useLoad(() => api.paymentConfig(), 'payment-config');
  const [paid, setPaid] = useState(false);
  const [expired, setExpired] = useState(false);
  const [waitedTooLong, setWaitedTooLong] = useState(false);
  const [cancelling, setCancelling] = useState(false);
  const [cancelErrors, setCancelErrors] = useState<string[]>([]);
  // Where the outcome of a payment or of the window's end shows: focus goes there when the
  // payment form it replaces disappears, so that it is not lost.
  const outcomeRef = useRef<HTMLDivElement>(null);
  const announce = useAnnounce();
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

  // Outcomes this page saw happen are said aloud; one it opened on is read with the page.
  const seenStatus = useRef(status);
  useEffect(() => {
    if (seenStatus.current === status) return;
    const before = seenStatus.current;
    seenStatus.current = status;
    if (before === undefined) return;
    if (status === 'complete') {
      announce(
        'Payment received: your order is complete. The ticket is yours; its entry code is in My tickets.',
      );
    } else if (status === 'cancelled' && order.data?.cancelledBy === 'rejected') {
      announce('This ticket could not be reserved for you. Nothing was charged.', 'assertive');
    }
  }, [status, order.data?.cancelledBy, announce]);
  useEffect(() => {
    if (!expired) return;
    announce('Your reservation expired before it was paid, so the ticket went back on sale.', 'assertive');
    // The payment form is gone: focus it held goes to what replaced it.
    const active = document.activeElement;
    if (!active || active === document.body) outcomeRef.current?.focus();
  }, [expired, announce]);

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
    return <LoadFailed message={order.error.message} onRetry={order.reload} />;
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
        <p className="eyebrow">Order {orderNumber(current.id)}</p>
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
          <OrderIdentity order={current} />
          {((open && !paid) || expired) && (
            <div className="facts-wide">
              <dt>Reservation</dt>
              <dd>
                <Countdown expiresAt={current.expiresAt} onExpire={() => setExpired(true)} />
              </dd>
            </div>
          )}
        </dl>

        <div className="outcome stack" ref={outcomeRef} tabIndex={-1}>
          {current.status === 'complete' && (
            <div className="alert alert-success">
              <p>
                <strong>Payment received — your order is complete.</strong> The ticket is yours: its entry
                code is in My tickets.
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
              <Link to={`/orders/${current.id}/receipt`} className="button button-secondary">
                Receipt
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
            <div className="alert alert-info">
              <p>
                {waitedTooLong
                  ? 'Your payment was accepted. The order will show as paid shortly.'
                  : 'Payment accepted. Confirming your order…'}
              </p>
            </div>
          )}
          {((current.status === 'cancelled' && !rejected) || (open && expired && !paid)) && (
            <div className="alert alert-neutral">
              <p>
                {expired || hasExpired(current)
                  ? 'This reservation expired before it was paid, so the ticket went back on sale.'
                  : 'This order was cancelled and the ticket went back on sale.'}
              </p>
              {(expired || hasExpired(current)) && <ReserveAgain order={current} />}
              <p>
                <Link to={`/tickets/${current.ticket.id}`}>See the ticket</Link> or{' '}
                <Link to="/">browse other tickets</Link>.
              </p>
            </div>
          )}
        </div>
      </section>

      {payable && (
        <section className="card" aria-labelledby="pay-title">
          <h2 id="pay-title">Payment</h2>
          {config.data ? (
            <PaymentForm
              orderId={current.id}
              amount={current.ticket.price}
              config={config.data}
              onPaid={() => {
                setPaid(true);
                announce('Payment accepted. Confirming your order…');
                // The form goes away with this render: the outcome takes the focus it held.
                requestAnimationFrame(() => outcomeRef.current?.focus());
              }}
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

/** How long an expired order's page waits for its ticket to be released before it stops asking. */
const RELEASE_WAIT_MS = 15_000;

/**
 * After a reservation ran out: the way to reserve the same ticket again, while nobody else has
 * (the ticket goes back on sale a moment after the window closes: it is asked for until then).
 */
function ReserveAgain({ order }: { order: Order }) {
  const navigate = useNavigate();
  const announce = useAnnounce();
  const [ticket, setTicket] = useState<Ticket | null>();
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);
  const free = (candidate: Ticket | null | undefined) =>
    Boolean(candidate?.listed && (!candidate.orderId || candidate.orderId === order.id));
  const released = (candidate: Ticket | null | undefined) => Boolean(candidate?.listed && !candidate.orderId);

  useEffect(() => {
    let live = true;
    const started = Date.now();
    let timer: number | undefined;
    const look = async () => {
      let seen: Ticket | null;
      try {
        seen = await api.getTicket(order.ticket.id);
      } catch {
        seen = null; // sold, or not shown to others any more
      }
      if (!live) return;
      setTicket(seen);
      if (seen && !released(seen) && seen.orderId === order.id && Date.now() - started < RELEASE_WAIT_MS)
        timer = window.setTimeout(() => void look(), 1_000);
    };
    void look();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [order.ticket.id, order.id]);

  if (ticket === undefined) return null;
  if (!free(ticket) || !ticket) return <p>Someone else has reserved or bought this ticket since.</p>;
  if (!released(ticket)) return <p className="muted">Checking whether the ticket is back on sale…</p>;
  const forSale = ticket;

  async function reserve() {
    setBusy(true);
    setErrors([]);
    try {
      const again = await api.createOrder(forSale.id, forSale.price);
      await navigate(`/orders/${again.id}`);
    } catch (error) {
      const messages =
        error instanceof ApiError ? error.items.map(friendlyMessage) : ['Could not reserve the ticket.'];
      setErrors(messages);
      announce(messages.join(' '), 'assertive');
      setBusy(false);
    }
  }

  return (
    <div className="stack reserve-again">
      <FormErrors messages={errors} />
      <p>
        It is still for sale, at {formatMoney(forSale.price)}
        {forSale.price !== order.ticket.price ? ` (it was ${formatMoney(order.ticket.price)})` : ''}.
      </p>
      <button type="button" className="button button-primary" onClick={() => void reserve()} disabled={busy}>
        {busy ? 'Reserving…' : 'Reserve again'}
      </button>
    </div>
  );
}
