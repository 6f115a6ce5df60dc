// @vitest-environment jsdom
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ann, fakeApi, renderApp, signedInAs, signedOut } from './setup.tsx';

const ORDER_ID = '7a7a7a7a-3333-4c4c-8d8d-000000000003';
const paid = {
  id: ORDER_ID,
  status: 'complete',
  userId: ann.id,
  createdAt: '2025-11-21T10:00:00.000Z',
  expiresAt: '2025-11-21T10:15:00.000Z',
  completedAt: '2025-11-21T10:03:00.000Z',
  version: 3,
  ticket: { id: '0b0c8a52-2222-4b4b-9c9c-000000000002', title: 'The Midnight Owls', price: 35.5 },
};

describe('moving between pages', () => {
  it('starts with a skip link to the page’s heading', async () => {
    fakeApi({ ...signedOut, 'GET /api/tickets': { body: [] } });
    renderApp('/');
    const user = userEvent.setup();
    await screen.findByRole('heading', { name: 'Tickets for sale' });
    await user.tab();
    const skip = screen.getByRole('link', { name: 'Skip to main content' });
    expect(document.activeElement).toBe(skip);
    await user.keyboard('{Enter}');
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Tickets for sale' }));
  });

  it('puts focus on the new page’s heading after a link, once the heading shows', async () => {
    fakeApi({ ...signedOut, 'GET /api/tickets': { body: [] } });
    renderApp('/');
    const user = userEvent.setup();
    await screen.findByRole('heading', { name: 'Tickets for sale' });
    // The first page is the browser's own load: focus is left where it starts.
    expect(document.activeElement).toBe(document.body);
    await user.click(await screen.findByRole('link', { name: 'Sign in' }));
    const heading = await screen.findByRole('heading', { name: 'Welcome back' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
  });

  it('puts focus on the heading of the page a redirect leads to', async () => {
    fakeApi({ ...signedOut, 'GET /api/tickets': { body: [] } });
    renderApp('/');
    await screen.findByRole('heading', { name: 'Tickets for sale' });
    await userEvent.setup().click(await screen.findByRole('link', { name: 'Create an account' }));
    const heading = await screen.findByRole('heading', { name: 'Create your account' });
    await waitFor(() => expect(document.activeElement).toBe(heading));
  });
});

describe('receipt', () => {
  it('shows a paid order’s number, dates, ticket and total, and prints', async () => {
    fakeApi({ ...signedInAs(ann), [`GET /api/orders/${ORDER_ID}`]: { body: paid } });
    const print = vi.fn();
    vi.stubGlobal('print', print);
    renderApp(`/orders/${ORDER_ID}/receipt`);
    expect(await screen.findByRole('heading', { name: 'Receipt for order 7A7A7A7A' })).toBeTruthy();
    const fact = (name: string) => screen.getByText(name, { selector: 'dt' }).nextElementSibling!.textContent;
    expect(fact('Order number')).toBe('7A7A7A7A');
    expect(fact('Placed')).toMatch(/^Nov 21, 2025/);
    expect(fact('Paid')).toMatch(/^Nov 21, 2025/);
    expect(fact('Buyer')).toBe(ann.email);
    expect(screen.getByRole('row', { name: /Ticket: The Midnight Owls/ }).textContent).toContain('$35.50');
    expect(screen.getByRole('row', { name: /Total paid/ }).textContent).toContain('$35.50');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Print receipt' }));
    expect(print).toHaveBeenCalledTimes(1);
  });

  it('is not given for an order that is not paid', async () => {
    fakeApi({
      ...signedInAs(ann),
      [`GET /api/orders/${ORDER_ID}`]: {
        body: { ...paid, status: 'awaiting:payment', completedAt: undefined },
      },
    });
    renderApp(`/orders/${ORDER_ID}/receipt`);
    expect(await screen.findByRole('heading', { name: 'No receipt yet' })).toBeTruthy();
    expect(screen.getByText('Order 7A7A7A7A is not paid, so it has no receipt.')).toBeTruthy();
  });
});
