/**
 * One ticket, its price beside its face value. A buyer sees a "Purchase" button (signed out: it
 * leads to sign in and back), or, when the order holding the ticket is theirs, the way to it; the
 * seller sees the edit form instead, disabled while an order holds the ticket. An owner whose
 * ticket is not listed (bought, or withdrawn) is sent to My tickets, where it can be sold again.
 * A purchase names the price the buyer sees, so it is never placed at another one. A purchase or
 * an edit the API refuses (someone reserved the ticket meanwhile, or its price changed) reloads
 * the ticket, so the page shows why.
 */
import { useRef, useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { api, ApiError, friendlyMessage, type Order } from '../api.ts';
import { FaceValue } from '../components/FaceValue.tsx';
import { FormErrors } from '../components/Field.tsx';
import { focusFirstInvalid } from '../form-errors.ts';
import { TicketForm } from '../components/TicketForm.tsx';
import { describeEvent, formatMoney, formatWindow, startsIn } from '../format.ts';
import { useLoad, useTitle } from '../hooks.ts';
import { useSession, useSignInRedirect } from '../session.tsx';
import { NotFound } from './NotFoundPage.tsx';
import { LoadFailed } from '../components/LoadFailed.tsx';

/**
 * Orders are created against the orders service's replica of tickets, which hears of a new ticket
 * through an event a moment after it is listed: a 404 right after listing is retried briefly.
 */
async function orderTicket(ticketId: string, price: number): Promise<Order> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    try {
      return await api.createOrder(ticketId, price);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

const listedOn = new Intl.DateTimeFormat('en-US', { month: 'long', day: 'numeric', year: 'numeric' });

/**
 * What "Purchase" does, said before it is pressed: a reservation for the marketplace's window, or
 * until the event starts when that comes sooner (no reservation outlives its event's start).
 */
function reservationNote(expirationSeconds: number, startsAt: string | undefined, now = Date.now()): string {
  const untilStart = startsAt === undefined ? Infinity : Math.floor((Date.parse(startsAt) - now) / 1000);
  return untilStart < expirationSeconds
    ? `Reserves this ticket until the event starts, ${formatWindow(Math.max(untilStart, 0))} from now, while you pay, on the next page.`
    : `Reserves this ticket for ${formatWindow(expirationSeconds)} while you pay, on the next page.`;
}

export function TicketPage() {
  const { id = '' } = useParams();
  const { user, refresh } = useSession();
  const navigate = useNavigate();
  const toSignIn = useSignInRedirect();
  // Set by the sell page: the seller arrives here right after listing.
  const justListed = (useLocation().state as { listed?: boolean } | null)?.listed === true;
  const ticket = useLoad(() => api.getTicket(id), id);
  // The order holding the ticket, when it is the signed-in buyer's own (the API shows an order to
  // its buyer only, so it is looked for among theirs).
  const holder = user && user.id !== ticket.data?.userId ? ticket.data?.orderId : undefined;
  const mine = useLoad(
    async () => (holder ? (await api.listOrders()).find((order) => order.id === holder) : undefined),
    `${user?.id ?? ''}:${holder ?? ''}`,
  );
  // How long "Purchase" holds the ticket: the marketplace's setting, said before the buyer commits.
  const orderConfig = useLoad(() => api.orderConfig(), 'order-config');
  const [purchasing, setPurchasing] = useState(false);
  const [purchaseErrors, setPurchaseErrors] = useState<string[]>([]);
  const purchaseRef = useRef<HTMLDivElement>(null);
  const [saved, setSaved] = useState(false);
  useTitle(ticket.data?.title ?? (ticket.error ? 'Ticket not found' : 'Ticket'));

  if (ticket.error?.status === 404 || (ticket.error?.status === 400 && !ticket.data)) {
    // A ticket off sale is shown to its owner only: its seller loses sight of it once it is sold.
    return (
      <NotFound what="ticket">
        {user && ticket.error.status === 404 && (
          <p className="muted">
            If you sold it, it is no longer yours to see: it is in <Link to="/sales">My sales</Link>.
          </p>
        )}
      </NotFound>
    );
  }
  if (ticket.error && !ticket.data) {
    return <LoadFailed message={ticket.error.message} onRetry={ticket.reload} />;
  }
  if (!ticket.data || user === undefined) return <p className="muted loading">Loading…</p>;

  const current = ticket.data;
  const own = user?.id === current.userId;
  const reserved = Boolean(current.orderId);
  // Only an owner is shown an unlisted ticket: one they bought, or took off sale.
  const unlisted = !current.listed;

  async function purchase() {
    if (!user) return toSignIn();
    setPurchasing(true);
    setPurchaseErrors([]);
    try {
      const order = await orderTicket(current.id, current.price); // never at another price than shown
      await navigate(`/orders/${order.id}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        // The session ended (in another tab, say): this page still thought it was signed in.
        if ((await refresh().catch(() => user)) === null) return toSignIn();
      }
      // Reserved meanwhile, or its price changed: the page shows the ticket as it is now.
      if (error instanceof ApiError && error.status === 400) ticket.reload();
      setPurchaseErrors(
        error instanceof ApiError
          ? error.items.map(friendlyMessage)
          : ['Something went wrong. Please try again.'],
      );
      setPurchasing(false);
      focusFirstInvalid(purchaseRef.current); // the button may be disabled now: the error takes it
    }
  }

  return (
    <div className={`ticket-layout${own && !unlisted ? ' split' : ''}`}>
      <p className="breadcrumb">
        <Link to="/">← All tickets</Link>
      </p>
      <section className="card ticket-detail" aria-labelledby="ticket-title">
        <p className="eyebrow">{own ? (unlisted ? 'Your ticket' : 'Your listing') : 'Ticket'}</p>
        <h1 id="ticket-title">{current.title}</h1>
        {describeEvent(current) && (
          <p className="ticket-event">
            {describeEvent(current)}
            {current.startsAt && <span className="muted"> · {startsIn(current.startsAt)}</span>}
          </p>
        )}
        <p className="price-line">
          <span className="price-large">{formatMoney(current.price)}</span>{' '}
          <FaceValue amount={current.faceValue} />
        </p>
        <p className="ticket-meta">
          {unlisted ? (
            <span className="badge badge-neutral">Not listed</span>
          ) : reserved ? (
            <span className="badge badge-warning">{own ? 'Reserved or sold' : 'Reserved'}</span>
          ) : (
            <span className="badge badge-success">On sale</span>
          )}
          <span className="muted">
            {current.timesSold > 0 ? 'First listed' : 'Listed'} {listedOn.format(new Date(current.createdAt))}
          </span>
        </p>
        {own && unlisted && (
          <p className="alert alert-info">
            This ticket is yours and not for sale. Its entry code, and the way to sell it again, are on{' '}
            <Link to="/tickets/mine">My tickets</Link>.
          </p>
        )}
        {own && justListed && !reserved && (
          <p className="alert alert-success" role="status">
            Your ticket is listed. It now shows on the home page for buyers.
          </p>
        )}
        {!own && (
          <div className="stack purchase" ref={purchaseRef}>
            <FormErrors messages={purchaseErrors} />
            {reserved && mine.data && mine.data.status !== 'cancelled' ? (
              <p className="muted">
                {mine.data.status === 'complete' ? 'You bought this ticket. ' : 'You reserved this ticket. '}
                <Link to={`/orders/${mine.data.id}`}>Go to your order</Link>
              </p>
            ) : reserved && mine.data ? (
              <p className="muted">
                Your order for it was cancelled; the ticket goes back on sale in a moment.
              </p>
            ) : reserved && mine.loading ? (
              <p className="muted">This ticket is reserved.</p>
            ) : reserved ? (
              <p className="muted">
                Another buyer has reserved this ticket. If their reservation runs out unpaid, it goes back on
                sale.
              </p>
            ) : (
              <p className="muted" id="purchase-note">
                {orderConfig.data
                  ? reservationNote(orderConfig.data.expirationSeconds, current.startsAt)
                  : 'Purchasing reserves the ticket for you while you pay, on the next page.'}
                {user ? null : ' You’ll sign in first.'}
              </p>
            )}
            <button
              type="button"
              aria-describedby={reserved ? undefined : 'purchase-note'}
              className="button button-primary button-block"
              onClick={() => void purchase()}
              disabled={purchasing || reserved}
            >
              {purchasing ? 'Reserving…' : 'Purchase'}
            </button>
          </div>
        )}
      </section>

      {own && !unlisted && (
        <section className="card" aria-labelledby="edit-title">
          <h2 id="edit-title">Edit</h2>
          <TicketForm
            key={current.version}
            submitLabel="Save changes"
            busyLabel="Saving…"
            initial={current}
            fixed={current.timesSold > 0}
            disabled={reserved}
            notice={
              reserved ? (
                <p className="alert alert-info">
                  A buyer has reserved or bought this ticket, so it can’t be edited. If a reservation runs out
                  unpaid, the ticket goes back on sale and you can edit it again.
                </p>
              ) : saved ? (
                <p className="alert alert-success" role="status">
                  Changes saved.
                </p>
              ) : null
            }
            onSubmit={async (input) => {
              setSaved(false);
              try {
                ticket.setData(await api.updateTicket(current.id, input));
              } catch (error) {
                // A rule, not a field ("Cannot edit a reserved ticket"): the ticket changed meanwhile.
                if (error instanceof ApiError && error.status === 400 && error.items.every((e) => !e.field))
                  ticket.reload();
                throw error;
              }
              setSaved(true);
            }}
          />
        </section>
      )}
    </div>
  );
}
