// @vitest-environment jsdom
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { ann, currentPath, fakeApi, renderApp, signedInAs } from './setup.tsx';

const bob = { id: '6f1d1c2e-1111-4a4a-8b8b-000000000003', email: 'bob@example.com' };
const onSale = {
  id: '0b0c8a52-2222-4b4b-9c9c-000000000009',
  title: 'The Midnight Owls',
  price: 35.5,
  faceValue: 35.5,
  maxPrice: 35.5,
  listed: true,
  timesSold: 0,
  userId: ann.id,
  version: 0,
  createdAt: '2025-11-21T10:00:00.000Z',
};
const orderId = '9a9a9a9a-3333-4c4c-8d8d-000000000001';
const reserved = { ...onSale, version: 1, orderId };
const bobsOrder = {
  id: orderId,
  status: 'created',
  userId: bob.id,
  createdAt: '2098-12-31T23:45:00.000Z',
  expiresAt: '2099-01-01T00:00:00.000Z',
  version: 0,
  ticket: { id: onSale.id, title: onSale.title, price: onSale.price },
};
const ticketRoute = `GET /api/tickets/${onSale.id}`;

describe('ticket page', () => {
  it('says before a purchase what it does, for as long as the marketplace holds a reservation', async () => {
    fakeApi({
      ...signedInAs(bob),
      [ticketRoute]: { body: onSale },
      'GET /api/orders/config': { body: { expirationSeconds: 900 } },
    });
    renderApp(`/tickets/${onSale.id}`);
    const note = await screen.findByText(/^Reserves this ticket for 15 minutes while you pay/);
    const purchase = screen.getByRole('button', { name: 'Purchase' });
    // Read with the button, by a screen reader, before it is pressed.
    expect(purchase.getAttribute('aria-describedby')).toBe(note.id);
  });

  it('says the window the marketplace is configured with, whatever it is', async () => {
    fakeApi({
      ...signedInAs(bob),
      [ticketRoute]: { body: onSale },
      'GET /api/orders/config': { body: { expirationSeconds: 90 } },
    });
    renderApp(`/tickets/${onSale.id}`);
    expect(
      await screen.findByText(/^Reserves this ticket for 1 minute 30 seconds while you pay/),
    ).toBeTruthy();
  });

  it('says the reservation ends when the event starts, when that comes sooner', async () => {
    const startsAt = new Date(Date.now() + 600_500).toISOString();
    fakeApi({
      ...signedInAs(bob),
      [ticketRoute]: { body: { ...onSale, startsAt } },
      'GET /api/orders/config': { body: { expirationSeconds: 900 } },
    });
    renderApp(`/tickets/${onSale.id}`);
    expect(
      await screen.findByText(
        /^Reserves this ticket until the event starts, (10 minutes|9 minutes \d+ seconds) from now, while you pay/,
      ),
    ).toBeTruthy();
  });

  it('tells the buyer the order holding the ticket is theirs, and links to it', async () => {
    fakeApi({
      ...signedInAs(bob),
      [ticketRoute]: { body: reserved },
      'GET /api/orders': { body: [bobsOrder] },
    });
    renderApp(`/tickets/${onSale.id}`);
    expect(await screen.findByText(/You reserved this ticket/)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Go to your order' }).getAttribute('href')).toBe(
      `/orders/${orderId}`,
    );
    expect(screen.queryByText(/Another buyer/)).toBeNull();
  });

  it('says another buyer holds it when the order is not theirs', async () => {
    fakeApi({ ...signedInAs(bob), [ticketRoute]: { body: reserved }, 'GET /api/orders': { body: [] } });
    renderApp(`/tickets/${onSale.id}`);
    expect(await screen.findByText(/Another buyer has reserved this ticket/)).toBeTruthy();
  });

  it('shows the ticket reserved when a purchase is refused because someone else was first', async () => {
    const api = fakeApi({
      ...signedInAs(bob),
      [ticketRoute]: [{ body: onSale }, { body: reserved }],
      'POST /api/orders': { status: 400, body: { errors: [{ message: 'Ticket is already reserved' }] } },
      'GET /api/orders': { body: [] },
    });
    renderApp(`/tickets/${onSale.id}`);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Purchase' }));
    expect(await screen.findByText('Ticket is already reserved')).toBeTruthy();
    expect(await screen.findByText(/Another buyer has reserved this ticket/)).toBeTruthy();
    // The button it was on is disabled now: the keyboard is on the error, which says why.
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('alert')));
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Purchase' }).disabled).toBe(true);
    expect(api.callsTo(ticketRoute)).toHaveLength(2);
  });

  it('orders at the price the buyer sees, and shows the new price when the API says it changed', async () => {
    const repriced = { ...onSale, version: 1, price: 55 };
    const api = fakeApi({
      ...signedInAs(bob),
      [ticketRoute]: [{ body: onSale }, { body: repriced }],
      'POST /api/orders': {
        status: 400,
        body: {
          errors: [
            {
              message: 'The price of this ticket changed from 35.50 to 55.00; check it and order again',
              field: 'price',
            },
          ],
        },
      },
      'GET /api/orders': { body: [] },
    });
    renderApp(`/tickets/${onSale.id}`);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Purchase' }));
    expect(await screen.findByText(/The price of this ticket changed from 35.50 to 55.00/)).toBeTruthy();
    expect(api.callsTo('POST /api/orders').map((call) => call.body)).toEqual([
      { ticketId: onSale.id, price: 35.5 },
    ]);
    expect(await screen.findByText('$55.00')).toBeTruthy(); // the ticket as it is now
  });

  it('sends a buyer whose session ended elsewhere to sign in, and the header says signed out', async () => {
    fakeApi({
      // Signed in when the page loaded; signed out in another tab before the click.
      'GET /api/users/currentuser': [{ body: { currentUser: bob } }, { body: { currentUser: null } }],
      [ticketRoute]: { body: onSale },
      'POST /api/orders': { status: 401, body: { errors: [{ message: 'Not authorized' }] } },
    });
    renderApp(`/tickets/${onSale.id}`);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Purchase' }));
    await waitFor(() =>
      expect(currentPath()).toBe(`/auth/signin?next=${encodeURIComponent(`/tickets/${onSale.id}`)}`),
    );
    expect(await screen.findByRole('heading', { name: 'Welcome back' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Sign out' })).toBeNull();
  });

  it('keeps the session when a 401 means only "not yours"', async () => {
    const api = fakeApi({
      ...signedInAs(bob),
      [`GET /api/orders/${orderId}`]: { status: 401, body: { errors: [{ message: 'Not authorized' }] } },
    });
    renderApp(`/orders/${orderId}`);
    expect(await screen.findByText(/Not authorized|not yours|another/i)).toBeTruthy();
    await waitFor(() => expect(api.callsTo('GET /api/users/currentuser').length).toBeGreaterThan(1));
    expect(currentPath()).toBe(`/orders/${orderId}`);
    expect(screen.getByRole('button', { name: 'Sign out' })).toBeTruthy();
  });

  it('sends a seller whose session ended elsewhere to sign in from the sell page, and back after', async () => {
    fakeApi({
      'GET /api/users/currentuser': [{ body: { currentUser: ann } }, { body: { currentUser: null } }],
      'POST /api/tickets': { status: 401, body: { errors: [{ message: 'Not authorized' }] } },
    });
    renderApp('/tickets/new');
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText('Title'), 'Opera');
    await user.type(screen.getByLabelText('Price'), '10');
    await user.click(screen.getByRole('button', { name: 'List ticket' }));
    await waitFor(() =>
      expect(currentPath()).toBe(`/auth/signin?next=${encodeURIComponent('/tickets/new')}`),
    );
  });

  it('tells the buyer they bought it once their order is paid', async () => {
    fakeApi({
      ...signedInAs(bob),
      [ticketRoute]: { body: reserved },
      'GET /api/orders': { body: [{ ...bobsOrder, status: 'complete' }] },
    });
    renderApp(`/tickets/${onSale.id}`);
    expect(await screen.findByText(/You bought this ticket/)).toBeTruthy();
  });

  it('shows the seller the ticket reserved when an edit is refused because a buyer was first', async () => {
    const api = fakeApi({
      ...signedInAs(ann),
      [ticketRoute]: [{ body: onSale }, { body: reserved }],
      [`PUT /api/tickets/${onSale.id}`]: {
        status: 400,
        body: { errors: [{ message: 'Cannot edit a reserved ticket' }] },
      },
    });
    renderApp(`/tickets/${onSale.id}`);
    const user = userEvent.setup();
    await user.click(await screen.findByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText(/can’t be edited/)).toBeTruthy();
    expect(screen.getByText('Reserved or sold')).toBeTruthy();
    expect(api.callsTo(ticketRoute)).toHaveLength(2);
  });
});
