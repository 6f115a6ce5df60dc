// @vitest-environment jsdom
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Order, PaymentConfig } from '../src/api.ts';
import { PaymentForm } from '../src/components/PaymentForm.tsx';
import { ann, currentPath, errorOf, fakeApi, renderApp, renderWithRouter, signedInAs } from './setup.tsx';

const ORDER_ID = '7a7a7a7a-3333-4c4c-8d8d-000000000003';
const testProvider: PaymentConfig = {
  provider: 'test',
  testCards: { success: 'tok_visa', declined: 'tok_chargeDeclined' },
};
const declined = {
  status: 400,
  body: { errors: [{ message: 'Your card was declined.', field: 'token' }] },
};

function renderForm(config: PaymentConfig = testProvider) {
  const onPaid = vi.fn();
  renderWithRouter(<PaymentForm orderId={ORDER_ID} amount={35.5} config={config} onPaid={onPaid} />);
  return { onPaid, user: userEvent.setup() };
}

describe('payment form with the test provider', () => {
  it('offers the simulated cards in plain words and pays with the one that succeeds', async () => {
    const api = fakeApi({ 'POST /api/payments': { status: 201, body: { id: 'payment-1' } } });
    const { onPaid, user } = renderForm();

    expect(screen.getByText(/Payments here are simulated/)).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>('Test card that succeeds').checked).toBe(true);
    expect(screen.getByLabelText<HTMLInputElement>('Test card that is declined').checked).toBe(false);
    expect(screen.getByText('$35.50')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Pay' }));

    expect(api.callsTo('POST /api/payments')[0]!.body).toEqual({ orderId: ORDER_ID, token: 'tok_visa' });
    expect(onPaid).toHaveBeenCalledTimes(1);
  });

  it('shows a declined card beside the card choice and lets the buyer try again', async () => {
    const api = fakeApi({
      'POST /api/payments': [declined, { status: 201, body: { id: 'payment-2' } }],
    });
    const { onPaid, user } = renderForm();
    await user.click(screen.getByLabelText('Test card that is declined'));
    await user.click(screen.getByRole('button', { name: 'Pay' }));

    const cards = screen.getByRole('group', { name: 'Card' });
    expect(await within(cards).findByText('Your card was declined.')).toBeTruthy();
    expect(errorOf(cards)).toBe('Your card was declined.');
    expect(screen.queryByRole('alert')).toBeNull();
    // The keyboard is back on the card that was declined, inside the group that says so.
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByLabelText('Test card that is declined')),
    );
    expect(onPaid).not.toHaveBeenCalled();
    expect(api.callsTo('POST /api/payments')[0]!.body).toEqual({
      orderId: ORDER_ID,
      token: 'tok_chargeDeclined',
    });

    await user.click(screen.getByLabelText('Test card that succeeds'));
    await user.click(screen.getByRole('button', { name: 'Pay' }));
    expect(onPaid).toHaveBeenCalledTimes(1);
    expect(screen.queryByText('Your card was declined.')).toBeNull();
  });

  it('shows an error about the order itself above the form', async () => {
    fakeApi({ 'POST /api/payments': { status: 400, body: { errors: [{ message: 'Order has expired' }] } } });
    const { onPaid, user } = renderForm();
    await user.click(screen.getByRole('button', { name: 'Pay' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Order has expired');
    expect(onPaid).not.toHaveBeenCalled();
  });

  it('loads Stripe.js only when Stripe is the provider', () => {
    fakeApi({});
    const stripeScripts = () => document.querySelectorAll('script[src^="https://js.stripe.com/"]').length;
    renderForm();
    expect(stripeScripts()).toBe(0);
    renderForm({ provider: 'stripe', stripePublishableKey: 'pk_test_123' });
    expect(stripeScripts()).toBe(1);
  });

  it('says so when Stripe has no publishable key, instead of a form that cannot work', () => {
    fakeApi({});
    renderForm({ provider: 'stripe' });
    expect(screen.getByRole('alert').textContent).toMatch(/not set up/);
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Pay' }).disabled).toBe(true);
  });
});

describe('order page', () => {
  const order = (overrides: Partial<Order> = {}): Order => ({
    id: ORDER_ID,
    status: 'awaiting:payment',
    userId: ann.id,
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
    version: 1,
    ticket: { id: '0b0c8a52-2222-4b4b-9c9c-000000000002', title: 'The Midnight Owls', price: 35.5 },
    ...overrides,
  });

  it('shows the order complete after paying, without a reload', async () => {
    const open = order();
    fakeApi({
      ...signedInAs(ann),
      'GET /api/payments/config': { body: testProvider },
      // The completion arrives through events: the first polls still see the order open.
      [`GET /api/orders/${ORDER_ID}`]: [
        { body: open },
        { body: open },
        { body: { ...open, status: 'complete', version: 2 } },
      ],
      'POST /api/payments': {
        status: 201,
        body: { id: 'payment-3', orderId: ORDER_ID, amount: 35.5, currency: 'usd', status: 'succeeded' },
      },
    });
    renderApp(`/orders/${ORDER_ID}`);
    const user = userEvent.setup();

    expect(await screen.findByRole('heading', { name: 'The Midnight Owls' })).toBeTruthy();
    expect(screen.getByText('Awaiting payment')).toBeTruthy();
    expect(screen.getByRole('timer').textContent).toMatch(/^1[45] min \d\d? s left to pay$/);
    await user.click(await screen.findByRole('button', { name: 'Pay' }));

    // The form is gone: focus is on the outcome that replaced it, which the live region says.
    await waitFor(() => expect(document.activeElement?.classList.contains('outcome')).toBe(true));
    expect(await screen.findByText(/your order is complete/, {}, { timeout: 4000 })).toBeTruthy();
    await waitFor(() =>
      expect(screen.getByTestId('announce-polite').textContent).toMatch(
        /^Payment received: your order is complete/,
      ),
    );
    expect(document.activeElement?.classList.contains('outcome')).toBe(true);
    expect(screen.getByText('Paid')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Receipt' }).getAttribute('href')).toBe(
      `/orders/${ORDER_ID}/receipt`,
    );
    expect(screen.queryByRole('button', { name: 'Pay' })).toBeNull();
    expect(screen.queryByRole('timer')).toBeNull();
  });

  it('shows the order expired when the countdown ends, and stops offering payment', async () => {
    const open = order({ expiresAt: new Date(Date.now() + 1_200).toISOString() });
    fakeApi({
      ...signedInAs(ann),
      'GET /api/payments/config': { body: testProvider },
      [`GET /api/orders/${ORDER_ID}`]: [
        { body: open },
        { body: { ...open, status: 'cancelled', version: 2 } },
      ],
    });
    renderApp(`/orders/${ORDER_ID}`);

    expect(await screen.findByRole('button', { name: 'Pay' })).toBeTruthy();
    expect(
      await screen.findByText(
        'This reservation expired before it was paid, so the ticket went back on sale.',
        {},
        { timeout: 4000 },
      ),
    ).toBeTruthy();
    expect(screen.getByRole('timer').textContent).toBe('Expired');
    expect(screen.getByText('Expired', { selector: '.badge' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Pay' })).toBeNull();
  });

  it('shows its short number and when it was placed', async () => {
    fakeApi({
      ...signedInAs(ann),
      'GET /api/payments/config': { body: testProvider },
      [`GET /api/orders/${ORDER_ID}`]: { body: order({ createdAt: '2025-11-21T10:00:00.000Z' }) },
    });
    renderApp(`/orders/${ORDER_ID}`);
    expect(await screen.findByText('Order 7A7A7A7A')).toBeTruthy();
    const number = screen.getByText('Order number').nextElementSibling!;
    expect(number.textContent).toBe('7A7A7A7A');
    const placed = screen.getByText('Placed').nextElementSibling!.querySelector('time')!;
    expect(placed.getAttribute('datetime')).toBe('2025-11-21T10:00:00.000Z');
    expect(placed.textContent).toMatch(/^Nov 21, 2025/);
  });

  it('says a declined card aloud, beside the card, and keeps the order payable', async () => {
    fakeApi({
      ...signedInAs(ann),
      'GET /api/payments/config': { body: testProvider },
      [`GET /api/orders/${ORDER_ID}`]: { body: order() },
      'POST /api/payments': declined,
    });
    renderApp(`/orders/${ORDER_ID}`);
    const user = userEvent.setup();
    await user.click(await screen.findByLabelText('Test card that is declined'));
    await user.click(screen.getByRole('button', { name: 'Pay' }));
    await waitFor(() =>
      expect(screen.getByTestId('announce-assertive').textContent).toBe('Your card was declined.'),
    );
    expect(document.activeElement).toBe(screen.getByLabelText('Test card that is declined'));
    expect(screen.getByRole('button', { name: 'Pay' })).toBeTruthy();
  });

  it('offers to reserve the ticket again once the reservation expired, when the ticket is still free', async () => {
    const open = order({ expiresAt: new Date(Date.now() + 1_200).toISOString() });
    const ticket = {
      id: open.ticket.id,
      title: open.ticket.title,
      price: 35.5,
      faceValue: 35.5,
      maxPrice: 35.5,
      listed: true,
      timesSold: 0,
      userId: '6f1d1c2e-1111-4a4a-8b8b-000000000009',
      version: 2,
      createdAt: '2025-11-21T10:00:00.000Z',
    };
    const againId = '7a7a7a7a-3333-4c4c-8d8d-000000000004';
    const api = fakeApi({
      ...signedInAs(ann),
      'GET /api/payments/config': { body: testProvider },
      [`GET /api/orders/${ORDER_ID}`]: [
        { body: open },
        { body: { ...open, status: 'cancelled', cancelledBy: 'expiry', version: 2 } },
      ],
      // Still held by the expired order at first; released a moment later.
      [`GET /api/tickets/${ticket.id}`]: [
        { body: { ...ticket, version: 1, orderId: ORDER_ID } },
        { body: ticket },
      ],
      'POST /api/orders': { status: 201, body: order({ id: againId, status: 'created', version: 0 }) },
      [`GET /api/orders/${againId}`]: { body: order({ id: againId }) },
    });
    renderApp(`/orders/${ORDER_ID}`);

    await waitFor(
      () =>
        expect(screen.getByTestId('announce-assertive').textContent).toBe(
          'Your reservation expired before it was paid, so the ticket went back on sale.',
        ),
      { timeout: 4000 },
    );
    const again = await screen.findByRole('button', { name: 'Reserve again' }, { timeout: 4000 });
    expect(screen.getByText('It is still for sale, at $35.50.')).toBeTruthy();
    await userEvent.setup().click(again);
    await waitFor(() => expect(currentPath()).toBe(`/orders/${againId}`));
    // The new order's page starts afresh: payable, whatever happened to the last one.
    expect(await screen.findByRole('button', { name: 'Pay' })).toBeTruthy();
    expect(screen.queryByText(/This reservation expired/)).toBeNull();
    expect(api.callsTo('POST /api/orders')[0]!.body).toEqual({ ticketId: ticket.id, price: 35.5 });
  });

  it('says when someone else took the ticket after the reservation expired', async () => {
    fakeApi({
      ...signedInAs(ann),
      'GET /api/payments/config': { body: testProvider },
      [`GET /api/orders/${ORDER_ID}`]: {
        body: order({
          status: 'cancelled',
          cancelledBy: 'expiry',
          expiresAt: new Date(Date.now() - 60_000).toISOString(),
        }),
      },
    });
    renderApp(`/orders/${ORDER_ID}`);
    expect(await screen.findByText('Someone else has reserved or bought this ticket since.')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Reserve again' })).toBeNull();
  });

  it('says the reservation is being confirmed, and offers Pay only once it is', async () => {
    const placed = order({ status: 'created', version: 0 });
    fakeApi({
      ...signedInAs(ann),
      'GET /api/payments/config': { body: testProvider },
      // The tickets service's confirmation arrives through events: the first poll still sees it placed.
      [`GET /api/orders/${ORDER_ID}`]: [{ body: placed }, { body: placed }, { body: order() }],
    });
    renderApp(`/orders/${ORDER_ID}`);

    expect(await screen.findByText('Confirming your reservation at $35.50…')).toBeTruthy();
    expect(screen.getByText('Confirming', { selector: '.badge' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Pay' })).toBeNull();
    expect(await screen.findByRole('button', { name: 'Pay' }, { timeout: 4000 })).toBeTruthy();
    expect(screen.getByText('Awaiting payment')).toBeTruthy();
    expect(screen.queryByText(/Confirming your reservation/)).toBeNull();
  });

  it('says why a rejected order was not reserved, offers no payment, and links back to the ticket', async () => {
    const placed = order({ status: 'created', version: 0 });
    fakeApi({
      ...signedInAs(ann),
      'GET /api/payments/config': { body: testProvider },
      [`GET /api/orders/${ORDER_ID}`]: [
        { body: placed },
        {
          body: order({
            status: 'cancelled',
            version: 1,
            cancelledBy: 'rejected',
            cancelReason: 'The seller changed this ticket before your reservation reached it',
          }),
        },
      ],
    });
    renderApp(`/orders/${ORDER_ID}`);

    expect(
      await screen.findByText(
        /The seller changed this ticket before your reservation reached it/,
        {},
        { timeout: 4000 },
      ),
    ).toBeTruthy();
    expect(screen.getByText('Not reserved', { selector: '.badge' })).toBeTruthy();
    expect(screen.getByText(/Nothing was charged/)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'See the ticket as it is now' }).getAttribute('href')).toBe(
      '/tickets/0b0c8a52-2222-4b4b-9c9c-000000000002',
    );
    expect(screen.queryByRole('button', { name: 'Pay' })).toBeNull();
    expect(screen.queryByText(/went back on sale/)).toBeNull();
  });
});
