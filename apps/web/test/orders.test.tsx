// @vitest-environment jsdom
import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ann, fakeApi, renderApp, signedInAs } from './setup.tsx';

const order = (n: number, fields: Record<string, unknown>) => ({
  id: `9a9a9a9a-3333-4c4c-8d8d-00000000000${n}`,
  status: 'cancelled',
  userId: ann.id,
  createdAt: '2025-11-21T10:00:00.000Z',
  expiresAt: '2025-11-21T10:15:00.000Z',
  version: 1,
  ticket: { id: `0b0c8a52-2222-4b4b-9c9c-00000000000${n}`, title: `Show ${n}`, price: 10 },
  ...fields,
});

describe('an order that ended unpaid', () => {
  it('shows as expired when its window closed, and as cancelled when its buyer cancelled it', async () => {
    fakeApi({
      ...signedInAs(ann),
      'GET /api/orders': {
        body: [order(1, { cancelledBy: 'expiry' }), order(2, { cancelledBy: 'buyer' }), order(3, {})],
      },
    });
    renderApp('/orders');
    const row = async (title: string) => (await screen.findByText(title)).closest('li')!;
    expect(within(await row('Show 1')).getByText('Expired')).toBeTruthy();
    expect(within(await row('Show 2')).getByText('Cancelled')).toBeTruthy();
    expect(within(await row('Show 3')).getByText('Cancelled')).toBeTruthy(); // from before it was recorded
    // Each with its short number and the date it was placed.
    const meta = (await row('Show 1')).querySelector('.order-row-meta')!;
    expect(meta.textContent).toMatch(/^Order 9A9A9A9A · Nov 21, 2025/);
    expect(meta.querySelector('time')!.getAttribute('datetime')).toBe('2025-11-21T10:00:00.000Z');
  });

  it('explains an expiry on the order page, after a reload too', async () => {
    const expired = order(1, { cancelledBy: 'expiry' });
    fakeApi({ ...signedInAs(ann), [`GET /api/orders/${expired.id}`]: { body: expired } });
    renderApp(`/orders/${expired.id}`);
    expect(await screen.findByText(/This reservation expired before it was paid/)).toBeTruthy();
    expect(screen.getByText('Expired')).toBeTruthy();
  });
});
