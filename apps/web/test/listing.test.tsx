// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Ticket } from '../src/api.ts';
import { ann, errorOf, fakeApi, renderApp, signedInAs, signedOut } from './setup.tsx';

const aTicket = (fields: Partial<Ticket> = {}): Ticket => ({
  id: '0b0c8a52-2222-4b4b-9c9c-000000000021',
  title: 'The Midnight Owls',
  price: 40,
  faceValue: 50,
  maxPrice: 50,
  listed: true,
  timesSold: 0,
  userId: '6f1d1c2e-1111-4a4a-8b8b-000000000007',
  version: 0,
  createdAt: '2025-11-21T12:00:00.000Z',
  ...fields,
});

describe('a listing’s face value', () => {
  it('stands below the price on the home page', async () => {
    fakeApi({ ...signedOut, 'GET /api/tickets': { body: [aTicket()] } });
    renderApp('/');
    const card = await screen.findByRole('link', { name: /The Midnight Owls/ });
    expect(card.textContent).toContain('$40.00 Face value $50.00');
  });

  it('stands beside the price on the ticket page', async () => {
    const ticket = aTicket();
    fakeApi({ ...signedOut, [`GET /api/tickets/${ticket.id}`]: { body: ticket } });
    renderApp(`/tickets/${ticket.id}`);
    await screen.findByRole('heading', { name: 'The Midnight Owls' });
    expect(screen.getByText('$40.00')).toBeTruthy();
    expect(screen.getByText('face value $50.00', { exact: false })).toBeTruthy();
  });
});

describe('an owner’s ticket page', () => {
  it('sends the owner of a ticket not for sale to My tickets, with no edit form', async () => {
    const ticket = aTicket({ userId: ann.id, listed: false, timesSold: 1 });
    fakeApi({ ...signedInAs(ann), [`GET /api/tickets/${ticket.id}`]: { body: ticket } });
    renderApp(`/tickets/${ticket.id}`);
    await screen.findByRole('heading', { name: 'The Midnight Owls' });
    expect(screen.getByText('Not listed')).toBeTruthy();
    expect(screen.getByText('Your ticket')).toBeTruthy();
    expect(
      within(screen.getByRole('main')).getByRole('link', { name: 'My tickets' }).getAttribute('href'),
    ).toBe('/tickets/mine');
    expect(screen.queryByRole('button', { name: 'Save changes' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Purchase' })).toBeNull();
  });

  it('tells a signed-in visitor where a ticket they sold went', async () => {
    const ticket = aTicket();
    fakeApi({
      ...signedInAs(ann),
      [`GET /api/tickets/${ticket.id}`]: { status: 404, body: { errors: [{ message: 'Not found' }] } },
    });
    renderApp(`/tickets/${ticket.id}`);
    expect(await screen.findByRole('heading', { name: 'We couldn’t find that ticket' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'My sales' }).getAttribute('href')).toBe('/sales');
  });

  it('keeps the title and face value of a resold ticket as they are, and edits its price', async () => {
    const ticket = aTicket({ userId: ann.id, timesSold: 1, price: 45 });
    const api = fakeApi({
      ...signedInAs(ann),
      [`GET /api/tickets/${ticket.id}`]: { body: ticket },
      [`PUT /api/tickets/${ticket.id}`]: { body: { ...ticket, price: 48, version: 1 } },
    });
    renderApp(`/tickets/${ticket.id}`);
    const title = await screen.findByLabelText<HTMLInputElement>('Title');
    const faceValue = screen.getByLabelText<HTMLInputElement>('Face value');
    expect(title.readOnly).toBe(true);
    expect(faceValue.readOnly).toBe(true);
    expect(faceValue.value).toBe('50.00');
    const user = userEvent.setup();
    await user.clear(screen.getByLabelText('Price'));
    await user.type(screen.getByLabelText('Price'), '48');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByText('Changes saved.')).toBeTruthy();
    expect(api.callsTo(`PUT /api/tickets/${ticket.id}`).map((call) => call.body)).toEqual([
      { title: 'The Midnight Owls', price: 48 },
    ]);
  });

  it('sends a changed face value, and shows a refusal beside it', async () => {
    const ticket = aTicket({ userId: ann.id });
    const api = fakeApi({
      ...signedInAs(ann),
      [`GET /api/tickets/${ticket.id}`]: { body: ticket },
      [`PUT /api/tickets/${ticket.id}`]: {
        status: 400,
        body: {
          errors: [{ message: 'faceValue cannot change once the ticket is sold', field: 'faceValue' }],
        },
      },
    });
    renderApp(`/tickets/${ticket.id}`);
    const faceValue = await screen.findByLabelText<HTMLInputElement>('Face value');
    expect(faceValue.readOnly).toBe(false);
    const user = userEvent.setup();
    await user.clear(faceValue);
    await user.type(faceValue, '60');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(document.activeElement).toBe(faceValue));
    expect(faceValue.getAttribute('aria-invalid')).toBe('true');
    expect(errorOf(faceValue)).toBe('Face value cannot change once the ticket is sold');
    expect(api.callsTo(`PUT /api/tickets/${ticket.id}`).map((call) => call.body)).toEqual([
      { title: 'The Midnight Owls', price: 40, faceValue: 60 },
    ]);
  });
});
