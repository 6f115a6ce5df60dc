import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, ApiError, type Ticket } from '../api.ts';
import { FaceValue } from '../components/FaceValue.tsx';
import {
  clearedFields,
  fieldsFromParams,
  isFiltered,
  paramsFromFields,
  SearchForm,
  searchOf,
} from '../components/SearchForm.tsx';
import { describeEvent, formatMoney, startsIn } from '../format.ts';
import { useTitle } from '../hooks.ts';
import { useSession } from '../session.tsx';
import { LoadFailed } from '../components/LoadFailed.tsx';

const PAGE_SIZE = 20;
const listedOn = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric' });

export function HomePage() {
  useTitle('Tickets for sale');
  const { user } = useSession();
  const [params, setParams] = useSearchParams();
  const fields = fieldsFromParams(params);
  const query = paramsFromFields(fields).toString();
  const [tickets, setTickets] = useState<Ticket[]>([]);
  const [nextPage, setNextPage] = useState<string | null>(null);
  const [loading, setLoading] = useState<'first' | 'more' | false>('first');
  const [error, setError] = useState<string>();

  async function loadPage(next: string | null) {
    setLoading(next ? 'more' : 'first');
    setError(undefined);
    try {
      const page = await api.listTickets({ limit: PAGE_SIZE, next, search: searchOf(fields) });
      // Keyed by id: a page fetched twice (a double click) never shows a ticket twice.
      setTickets((shown) => {
        const known = new Set(shown.map((ticket) => ticket.id));
        return [...(next ? shown : []), ...page.tickets.filter((ticket) => !next || !known.has(ticket.id))];
      });
      setNextPage(page.next);
    } catch (failure) {
      setError(failure instanceof ApiError ? failure.message : 'Could not load the tickets.');
    } finally {
      setLoading(false);
    }
  }

  // A new search (the address changed: `query` is the search, in one string) starts from its first page.
  useEffect(() => {
    void loadPage(null);
  }, [query]);

  return (
    <section aria-labelledby="home-title">
      <div className="page-head">
        <div>
          <h1 id="home-title">Tickets for sale</h1>
          <p className="lead">
            Resale tickets from people who can’t make it. Reserve one, then pay before the reservation runs
            out.
          </p>
        </div>
        {user && tickets.length > 0 && (
          <Link to="/tickets/new" className="button button-secondary">
            List a ticket
          </Link>
        )}
      </div>

      <SearchForm key={query} initial={fields} onSearch={(next) => setParams(paramsFromFields(next))} />

      {error && <LoadFailed message={error} onRetry={() => void loadPage(null)} />}

      {loading === 'first' ? (
        <p className="muted loading">Loading tickets…</p>
      ) : tickets.length === 0 && !error && isFiltered(fields) ? (
        <div className="empty card">
          <h2>No tickets match your search</h2>
          <p className="muted">Try fewer words, another city, or wider dates and prices.</p>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => setParams(paramsFromFields(clearedFields(fields)))}
          >
            Clear the search
          </button>
        </div>
      ) : tickets.length === 0 && !error ? (
        <div className="empty card">
          <h2>No tickets for sale right now</h2>
          <p className="muted">Check back soon, or be the first to list one.</p>
          <Link to={user ? '/tickets/new' : '/auth/signup'} className="button button-primary">
            {user ? 'List a ticket' : 'Create an account'}
          </Link>
        </div>
      ) : (
        <ul className="ticket-grid" aria-label="Tickets">
          {tickets.map((ticket) => (
            <li key={ticket.id}>
              <Link to={`/tickets/${ticket.id}`} className="ticket-card">
                <span className="ticket-card-title">{ticket.title}</span>
                {describeEvent(ticket) && <span className="ticket-card-event">{describeEvent(ticket)}</span>}
                {ticket.startsAt && <span className="ticket-card-soon">{startsIn(ticket.startsAt)}</span>}
                <span className="ticket-card-prices">
                  <span className="ticket-card-price">{formatMoney(ticket.price)}</span>{' '}
                  <FaceValue amount={ticket.faceValue} ownLine />
                </span>
                <span className="ticket-card-meta">
                  {user?.id === ticket.userId ? <span className="tag">Your listing</span> : null}
                  <span>Listed {listedOn.format(new Date(ticket.createdAt))}</span>
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}

      {nextPage && loading !== 'first' && (
        <div className="load-more">
          <button
            type="button"
            className="button button-secondary"
            onClick={() => void loadPage(nextPage)}
            disabled={loading === 'more'}
          >
            {loading === 'more' ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </section>
  );
}
