/**
 * Every ticket the signed-in user owns: what it is on sale for and what is printed on it, its
 * entry code, and what can be done with it: one not for sale can be sold again (up to what its
 * face value allows), one on sale withdrawn unless a buyer holds it. A ticket just bought passes
 * to its buyer through an event a moment after the payment, so a buyer sent here by their order
 * (`state.expecting`) sees the list asked for again until it arrives.
 */
import { useEffect, useRef, useState } from 'react';
import { Link, useLocation } from 'react-router';
import { api, ApiError, friendlyMessage, type Ticket } from '../api.ts';
import { EntryCode } from '../components/EntryCode.tsx';
import { FormErrors } from '../components/Field.tsx';
import { SellAgainForm } from '../components/SellAgainForm.tsx';
import { focusFirstInvalid } from '../form-errors.ts';
import { formatMoney } from '../format.ts';
import { useLoad, useTitle } from '../hooks.ts';
import { LoadFailed } from '../components/LoadFailed.tsx';

const POLL_MS = 500;
const POLL_FOR_MS = 15_000;

type Status = 'on sale' | 'reserved' | 'not listed';

/** Not listed comes first: a ticket just handed to its buyer may still name the order that sold it. */
const statusOf = (ticket: Ticket): Status =>
  !ticket.listed ? 'not listed' : ticket.orderId ? 'reserved' : 'on sale';

const badges: Record<Status, { label: string; tone: string }> = {
  'on sale': { label: 'On sale', tone: 'success' },
  reserved: { label: 'Reserved', tone: 'warning' },
  'not listed': { label: 'Not listed', tone: 'neutral' },
};

export function MyTicketsPage() {
  useTitle('My tickets');
  const expecting = (useLocation().state as { expecting?: string } | null)?.expecting;
  const tickets = useLoad(() => api.myTickets(), 'my-tickets');
  const [waitedTooLong, setWaitedTooLong] = useState(false);
  const started = useRef(Date.now());

  const waiting =
    expecting !== undefined && tickets.data !== undefined && !tickets.data.some((t) => t.id === expecting);
  const { reload, data } = tickets;
  // Asks again a moment after each answer that still lacks it (`data` is new with each answer).
  useEffect(() => {
    if (!waiting || waitedTooLong) return;
    if (Date.now() - started.current > POLL_FOR_MS) {
      setWaitedTooLong(true);
      return;
    }
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [waiting, data, waitedTooLong, reload]);

  const replace = (updated: Ticket) =>
    tickets.setData((tickets.data ?? []).map((ticket) => (ticket.id === updated.id ? updated : ticket)));

  return (
    <section aria-labelledby="my-tickets-title">
      <div className="page-head">
        <div>
          <h1 id="my-tickets-title">My tickets</h1>
          <p className="lead">
            Show a ticket’s entry code at the door. A ticket you can’t use, you can sell again.
          </p>
        </div>
        <Link to="/sales" className="button button-secondary">
          My sales
        </Link>
      </div>
      {waiting && (
        <p className="alert alert-info" role="status">
          {waitedTooLong
            ? 'Your new ticket is taking longer than usual to arrive. Reload this page in a moment.'
            : 'Your new ticket is on its way: it shows here in a moment.'}
        </p>
      )}
      {tickets.error && !tickets.data ? (
        <LoadFailed message={tickets.error.message} onRetry={tickets.reload} />
      ) : !tickets.data ? (
        <p className="muted loading">Loading your tickets…</p>
      ) : tickets.data.length === 0 ? (
        waiting && !waitedTooLong ? null : (
          <div className="empty card">
            <h2>You have no tickets yet</h2>
            <p className="muted">
              Tickets you buy or list show up here, each with its entry code for the door.
            </p>
            <div className="actions">
              <Link to="/" className="button button-primary">
                Browse tickets
              </Link>
              <Link to="/tickets/new" className="button button-secondary">
                Sell a ticket
              </Link>
            </div>
          </div>
        )
      ) : (
        <ul className="owned-list" aria-label="Your tickets">
          {tickets.data.map((ticket) => (
            <li key={ticket.id}>
              <OwnedTicket ticket={ticket} onListed={replace} onChanged={tickets.reload} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

interface OwnedTicketProps {
  ticket: Ticket;
  /** It is on sale now, as the API answered. */
  onListed: (ticket: Ticket) => void;
  /** It changed in a way only a fresh list can show (withdrawn, or reserved meanwhile). */
  onChanged: () => void;
}

function OwnedTicket({ ticket, onListed, onChanged }: OwnedTicketProps) {
  const titleId = `owned-${ticket.id}`;
  const status = statusOf(ticket);
  const badge = badges[status];
  const [notice, setNotice] = useState<string>();
  const [withdrawing, setWithdrawing] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);
  const actionsRef = useRef<HTMLDivElement>(null);

  async function withdraw() {
    setWithdrawing(true);
    setErrors([]);
    setNotice(undefined);
    try {
      await api.withdrawTicket(ticket.id);
      setNotice('Withdrawn: it is no longer for sale.');
      onChanged();
    } catch (error) {
      setErrors(
        error instanceof ApiError
          ? error.items.map(friendlyMessage)
          : ['Something went wrong. Please try again.'],
      );
      // A buyer reserved it meanwhile (or it changed hands): the card shows it as it is now.
      if (error instanceof ApiError && (error.status === 400 || error.status === 401)) onChanged();
      focusFirstInvalid(actionsRef.current);
    } finally {
      setWithdrawing(false);
    }
  }

  return (
    <article className="card owned-ticket" aria-labelledby={titleId}>
      <div className="owned-ticket-head">
        <h2 id={titleId}>
          <Link to={`/tickets/${ticket.id}`} className="plain-link">
            {ticket.title}
          </Link>
        </h2>
        <span className={`badge badge-${badge.tone}`}>{badge.label}</span>
      </div>
      <div className="owned-ticket-body">
        <EntryCode ticket={ticket} />
        <div className="stack owned-ticket-side">
          <dl className="facts">
            <div>
              <dt>{status === 'not listed' ? 'Last price' : 'Price'}</dt>
              <dd>{formatMoney(ticket.price)}</dd>
            </div>
            <div>
              <dt>Face value</dt>
              <dd>{formatMoney(ticket.faceValue)}</dd>
            </div>
          </dl>
          {notice && (
            <p className="alert alert-success" role="status">
              {notice}
            </p>
          )}
          <div className="stack owned-ticket-actions" ref={actionsRef}>
            <FormErrors messages={errors} />
            {status === 'not listed' ? (
              <SellAgainForm
                ticket={ticket}
                onListed={(listed) => {
                  setErrors([]);
                  setNotice(`On sale for ${formatMoney(listed.price)}. Buyers see it on the home page now.`);
                  onListed(listed);
                }}
              />
            ) : status === 'reserved' ? (
              <p className="muted">
                A buyer has reserved it. If their reservation runs out unpaid, it is on sale again; once they
                pay, it is theirs and this code stops working.
              </p>
            ) : (
              <>
                <p className="muted">On the home page for buyers. Once it sells, this code stops working.</p>
                <button
                  type="button"
                  className="button button-secondary"
                  onClick={() => void withdraw()}
                  disabled={withdrawing}
                >
                  {withdrawing ? 'Withdrawing…' : 'Withdraw'}
                </button>
              </>
            )}
          </div>
        </div>
      </div>
    </article>
  );
}
