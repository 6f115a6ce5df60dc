// @vitest-environment jsdom
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Sale } from '../src/api.ts';
import { ann, currentPath, fakeApi, renderApp, signedInAs } from './setup.tsx';

const aSale = (n: number, fields: Partial<Sale> = {}): Sale => ({
  orderId: `9a9a9a9a-3333-4c4c-8d8d-00000000000${n}`,
  ticket: { id: `0b0c8a52-2222-4b4b-9c9c-00000000000${n}`, title: `Show ${n}` },
  price: 10 * n,
  soldAt: `2025-11-2${n}T12:00:00.000Z`,
  ...fields,
});

describe('my sales', () => {
  it('lists the completed sales in the order the API gives them, newest first, with what each went for', async () => {
    fakeApi({
      ...signedInAs(ann),
      'GET /api/orders/sales': { body: { sales: [aSale(3, { price: 45.5 }), aSale(1)] } },
    });
    renderApp('/sales');
    const list = await screen.findByRole('list', { name: 'Sales' });
    const rows = within(list).getAllByRole('listitem');
    expect(rows.map((row) => row.querySelector('.order-row-title')?.textContent)).toEqual([
      'Show 3',
      'Show 1',
    ]);
    expect(within(rows[0]!).getByText('$45.50')).toBeTruthy();
    expect(within(rows[1]!).getByText('$10.00')).toBeTruthy();
    expect(rows[0]!.querySelector('time')?.getAttribute('dateTime')).toBe('2025-11-23T12:00:00.000Z');
    // Noon UTC: the same day in any time zone the test runs in.
    expect(rows[0]!.querySelector('.order-row-meta')?.textContent).toMatch(
      /^Order [0-9A-F]{8} · Sold Nov 23, 2025/,
    );
  });

  it('says when nothing has sold yet', async () => {
    fakeApi({ ...signedInAs(ann), 'GET /api/orders/sales': { body: { sales: [] } } });
    renderApp('/sales');
    expect(await screen.findByRole('heading', { name: 'No sales yet' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Sell a ticket' }).getAttribute('href')).toBe('/tickets/new');
  });

  it('offers to try again when the sales cannot be loaded', async () => {
    fakeApi({
      ...signedInAs(ann),
      'GET /api/orders/sales': [
        { status: 503, body: { errors: [{ message: 'Service unavailable' }] } },
        { body: { sales: [aSale(2)] } },
      ],
    });
    renderApp('/sales');
    expect((await screen.findByRole('alert')).textContent).toContain('Service unavailable');
    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('Show 2')).toBeTruthy();
  });

  it('is reached from My tickets', async () => {
    fakeApi({
      ...signedInAs(ann),
      'GET /api/tickets/mine': { body: { tickets: [] } },
      'GET /api/orders/sales': { body: { sales: [] } },
    });
    renderApp('/tickets/mine');
    await userEvent.setup().click(await screen.findByRole('link', { name: 'My sales' }));
    expect(currentPath()).toBe('/sales');
    expect(await screen.findByRole('heading', { name: 'My sales' })).toBeTruthy();
  });
});
