// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Ticket } from '../src/api.ts';
import { currentPath, errorOf, fakeApi, renderApp, signedOut } from './setup.tsx';

const aTicket = (fields: Partial<Ticket> = {}): Ticket => ({
  id: '0b0c8a52-2222-4b4b-9c9c-000000000031',
  title: 'Mahler 5',
  price: 60,
  faceValue: 60,
  maxPrice: 60,
  listed: true,
  timesSold: 0,
  userId: '6f1d1c2e-1111-4a4a-8b8b-000000000007',
  version: 0,
  createdAt: '2025-11-21T12:00:00.000Z',
  ...fields,
});

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe('the home page’s search', () => {
  it('shows each listing’s event: date and time, venue and city, and how soon it starts', async () => {
    fakeApi({
      ...signedOut,
      'GET /api/tickets': {
        body: [
          aTicket({ venue: 'Olympia', city: 'Paris', startsAt: inDays(3) }),
          aTicket({ id: 'x', title: 'Undated' }),
        ],
      },
    });
    renderApp('/');
    const card = await screen.findByRole('link', { name: /Mahler 5/ });
    expect(card.textContent).toMatch(/[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}, \d{2}:\d{2} · Olympia, Paris/);
    expect(card.textContent).toContain('starts in 3 days');
    expect(screen.getByRole('link', { name: /Undated/ }).textContent).not.toContain('starts in');
  });

  it('searches with the words, city, dates, prices and sort asked for, and keeps them in the address', async () => {
    const api = fakeApi({ ...signedOut, 'GET /api/tickets': { body: [aTicket()] } });
    renderApp('/');
    const search = await screen.findByRole('search', { name: 'Tickets' });
    const user = userEvent.setup();
    await user.type(within(search).getByLabelText('Search'), 'mahler');
    await user.type(within(search).getByLabelText('City'), 'Paris');
    await user.type(within(search).getByLabelText('From'), '2030-01-10');
    await user.type(within(search).getByLabelText('To'), '2030-01-12');
    await user.type(within(search).getByLabelText('Lowest price'), '20');
    await user.type(within(search).getByLabelText('Highest price'), '$100.50');
    await user.click(within(search).getByRole('button', { name: 'Search' }));
    await waitFor(() => expect(api.callsTo('GET /api/tickets')).toHaveLength(2));
    const query = api.callsTo('GET /api/tickets')[1]!.query;
    expect(Object.fromEntries(query)).toEqual({
      limit: '20',
      q: 'mahler',
      city: 'Paris',
      from: new Date('2030-01-10T00:00:00').toISOString(),
      to: new Date('2030-01-12T23:59:59.999').toISOString(),
      minPrice: '20',
      maxPrice: '100.5',
      sort: 'newest',
    });
    expect(currentPath()).toBe(
      '/?q=mahler&city=Paris&from=2030-01-10&to=2030-01-12&minPrice=20&maxPrice=%24100.50',
    );
  });

  it('sorts as soon as the sort is chosen', async () => {
    const api = fakeApi({ ...signedOut, 'GET /api/tickets': { body: [aTicket()] } });
    renderApp('/?city=paris');
    await screen.findByRole('link', { name: /Mahler 5/ });
    await userEvent.setup().selectOptions(screen.getByLabelText('Sort by'), 'Lowest price');
    await waitFor(() => expect(api.callsTo('GET /api/tickets')).toHaveLength(2));
    expect(api.callsTo('GET /api/tickets')[1]!.query.get('sort')).toBe('price');
    expect(api.callsTo('GET /api/tickets')[1]!.query.get('city')).toBe('paris');
    expect(currentPath()).toBe('/?city=paris&sort=price');
  });

  it('says what is wrong beside the field before searching', async () => {
    const api = fakeApi({ ...signedOut, 'GET /api/tickets': { body: [] } });
    renderApp('/');
    const search = await screen.findByRole('search', { name: 'Tickets' });
    const user = userEvent.setup();
    await user.type(within(search).getByLabelText('Lowest price'), '50');
    await user.type(within(search).getByLabelText('Highest price'), '20');
    await user.type(within(search).getByLabelText('From'), '2030-02-01');
    await user.type(within(search).getByLabelText('To'), '2030-01-01');
    await user.click(within(search).getByRole('button', { name: 'Search' }));
    expect(errorOf(within(search).getByLabelText('Highest price'))).toBe(
      'The highest price must not be below the lowest',
    );
    expect(errorOf(within(search).getByLabelText('To'))).toBe('The last day must not be before the first');
    expect(api.callsTo('GET /api/tickets')).toHaveLength(1);
  });

  it('says when nothing matches, and clears the search in one click', async () => {
    const api = fakeApi({ ...signedOut, 'GET /api/tickets': [{ body: [] }, { body: [aTicket()] }] });
    renderApp('/?q=nothing&sort=price');
    await screen.findByRole('heading', { name: 'No tickets match your search' });
    await userEvent.setup().click(screen.getByRole('button', { name: 'Clear the search' }));
    await screen.findByRole('link', { name: /Mahler 5/ });
    expect(currentPath()).toBe('/?sort=price');
    expect(api.callsTo('GET /api/tickets')[1]!.query.get('q')).toBeNull();
  });

  it('follows the Link header to the next page, with the search it carries', async () => {
    const next = '/api/tickets?city=paris&cursor=abc&limit=20';
    const api = fakeApi({
      ...signedOut,
      'GET /api/tickets': [
        { body: [aTicket()], headers: { link: `<${next}>; rel="next"` } },
        { body: [aTicket({ id: 'second', title: 'Second page' })] },
      ],
    });
    renderApp('/?city=paris');
    await screen.findByRole('link', { name: /Mahler 5/ });
    await userEvent.setup().click(screen.getByRole('button', { name: 'Load more' }));
    await screen.findByRole('link', { name: /Second page/ });
    expect(Object.fromEntries(api.callsTo('GET /api/tickets')[1]!.query)).toEqual({
      city: 'paris',
      cursor: 'abc',
      limit: '20',
    });
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });
});

describe('the sell form', () => {
  it('sends the venue, city and start when given, the start as UTC', async () => {
    const created = aTicket({ id: '0b0c8a52-2222-4b4b-9c9c-000000000099' });
    const api = fakeApi({
      'GET /api/users/currentuser': { body: { currentUser: { id: created.userId, email: 'a@example.com' } } },
      'POST /api/tickets': { status: 201, body: created },
      [`GET /api/tickets/${created.id}`]: { body: created },
    });
    renderApp('/tickets/new');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Title'), 'Mahler 5');
    await user.type(screen.getByLabelText('Price'), '60');
    await user.type(screen.getByLabelText('Venue'), 'Philharmonie');
    await user.type(screen.getByLabelText('City'), 'Paris');
    await user.type(screen.getByLabelText('Starts at'), '2031-03-14T20:30');
    await user.click(screen.getByRole('button', { name: /List/ }));
    await waitFor(() => expect(api.callsTo('POST /api/tickets')).toHaveLength(1));
    expect(api.callsTo('POST /api/tickets')[0]!.body).toEqual({
      title: 'Mahler 5',
      price: 60,
      venue: 'Philharmonie',
      city: 'Paris',
      startsAt: new Date('2031-03-14T20:30').toISOString(),
    });
  });

  it('refuses a start in the past beside the field', async () => {
    const api = fakeApi({
      'GET /api/users/currentuser': { body: { currentUser: { id: 'u', email: 'a@example.com' } } },
    });
    renderApp('/tickets/new');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Title'), 'Old show');
    await user.type(screen.getByLabelText('Price'), '10');
    await user.type(screen.getByLabelText('Starts at'), '2020-01-01T20:00');
    await user.click(screen.getByRole('button', { name: /List/ }));
    expect(errorOf(screen.getByLabelText('Starts at'))).toBe('The event must start in the future');
    expect(api.callsTo('POST /api/tickets')).toHaveLength(0);
  });
});
