/**
 * Resale, end to end over HTTP: a ticket changes hands twice. A lists it, B buys and pays, and the
 * ticket becomes B's (A's credential stops verifying, B's works); B sells it again at its face
 * value (a cent more is refused) to C, who pays and owns it. Each user's tickets and sales show the
 * chain, and the consistency checker finds nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@ticketing/common/testing';
import { waitForConsistency } from '../apps/cluster/src/check-consistency.ts';
import { startOneProcess, startProcesses, User, type System } from './support.ts';

interface Ticket {
  id: string;
  price: number;
  faceValue: number;
  maxPrice: number;
  userId: string;
  listed: boolean;
  timesSold: number;
}
type Mine = { tickets: Ticket[] };
type Sales = { sales: { orderId: string; ticket: { id: string }; price: number }[] };

const owns = async (user: User, ticketId: string) =>
  (await user.request<Mine>('GET', '/api/tickets/mine')).body.tickets.some((t) => t.id === ticketId);

/** `buyer` orders `ticketId` (once the orders service may sell it), pays when payable, and waits for the sale to land. */
async function buy(buyer: User, ticketId: string, price: number) {
  const order = await waitFor(async () => {
    const placed = await buyer.request<{ id: string }>('POST', '/api/orders', { ticketId, price });
    return placed.status === 201 ? placed.body : undefined; // 404 until the replica has the listing
  }, 30_000);
  const paid = await waitFor(async () => {
    const payment = await buyer.request<{ amount: number }>('POST', '/api/payments', {
      orderId: order.id,
      token: 'tok_visa',
    });
    return payment.status === 201 ? payment.body : undefined; // 400 until the order is confirmed
  }, 30_000);
  expect(paid.amount).toBe(price);
  await waitFor(() => owns(buyer, ticketId), 30_000);
  return order.id;
}

async function resellTwice(system: System) {
  const signUp = () => new User(system.route).signUp();
  const [a, b, c] = await Promise.all([signUp(), signUp(), signUp()]);
  const credential = async (user: User, id: string) =>
    (await user.request<{ code: string }>('GET', `/api/tickets/${id}/credential`)).body.code;
  const verify = async (code: string) => (await c.request('POST', '/api/tickets/verify', { code })).body;

  // A lists it, and has a credential for it.
  const listed = await a.request<Ticket>('POST', '/api/tickets', {
    title: 'Final, row 12 seat 4',
    price: 50,
  });
  expect(listed.body).toMatchObject({ price: 50, faceValue: 50, maxPrice: 50, listed: true, timesSold: 0 });
  const ticketId = listed.body.id;
  const codeOfA = await credential(a, ticketId);
  expect(await verify(codeOfA)).toEqual({ valid: true, ticketId, title: 'Final, row 12 seat 4' });

  // B buys it: B owns it, A does not; A's code no longer verifies, B's does.
  const firstSale = await buy(b, ticketId, 50);
  expect(await owns(a, ticketId)).toBe(false);
  expect(await verify(codeOfA)).toEqual({ valid: false });
  expect((await a.request('GET', `/api/tickets/${ticketId}/credential`)).status).toBe(401);
  const codeOfB = await credential(b, ticketId);
  expect(codeOfB).not.toBe(codeOfA);
  expect(await verify(codeOfB)).toMatchObject({ valid: true, ticketId });
  expect((await a.request('GET', `/api/tickets/${ticketId}`)).status).toBe(404); // not listed, not A's
  expect((await c.request('POST', '/api/orders', { ticketId })).status).toBe(404);

  // B sells it again: a cent above the face value is refused with the cap, the face value is fine.
  const above = await b.request('POST', `/api/tickets/${ticketId}/listing`, { price: 50.01 });
  expect(above).toEqual({
    status: 400,
    body: { errors: [{ message: 'price must be at most 50.00: its face value, 50.00', field: 'price' }] },
  });
  const relisted = await b.request<Ticket>('POST', `/api/tickets/${ticketId}/listing`, { price: 50 });
  expect(relisted.body).toMatchObject({ listed: true, userId: b.id, timesSold: 1, faceValue: 50 });
  expect(await verify(codeOfB)).toMatchObject({ valid: true }); // B's works while it is listed

  // C buys it from B.
  const secondSale = await buy(c, ticketId, 50);
  expect(await owns(b, ticketId)).toBe(false);
  expect(await verify(codeOfB)).toEqual({ valid: false });
  expect(await verify(await credential(c, ticketId))).toMatchObject({ valid: true, ticketId });
  const mineOfC = (await c.request<Mine>('GET', '/api/tickets/mine')).body.tickets;
  expect(mineOfC).toEqual([
    expect.objectContaining({ id: ticketId, userId: c.id, listed: false, timesSold: 2 }),
  ]);

  // The chain, as each sees it.
  const sales = async (user: User) => (await user.request<Sales>('GET', '/api/orders/sales')).body.sales;
  expect(await sales(a)).toEqual([
    expect.objectContaining({
      orderId: firstSale,
      ticket: expect.objectContaining({ id: ticketId }),
      price: 50,
    }),
  ]);
  expect(await sales(b)).toEqual([expect.objectContaining({ orderId: secondSale, price: 50 })]);
  expect(await sales(c)).toEqual([]);
  const ordersOf = async (user: User) =>
    (await user.request<{ id: string; status: string }[]>('GET', '/api/orders')).body.map((o) => [
      o.id,
      o.status,
    ]);
  expect(await ordersOf(b)).toEqual([[firstSale, 'complete']]);
  expect(await ordersOf(c)).toEqual([[secondSale, 'complete']]);

  const report = await waitForConsistency({
    tickets: system.databases.tickets!,
    orders: system.databases.orders!,
    payments: system.databases.payments!,
  });
  expect(report.differences).toEqual([]);
  expect(report.deadLetters).toEqual([]);
}

describe('resale, one process, in-process bus', () => {
  let system: System;
  beforeAll(async () => (system = await startOneProcess()));
  afterAll(() => system.stop());

  it('hands a paid ticket to its buyer with a new credential, twice, within the face-value cap', async () => {
    await resellTwice(system);
  }, 120_000);
});

const natsUrl = process.env.NATS_URL;
describe.runIf(natsUrl)('resale, one process per service, JetStream', () => {
  let system: System;
  beforeAll(async () => (system = await startProcesses(natsUrl!)), 90_000);
  afterAll(() => system?.stop());

  it('hands a paid ticket to its buyer with a new credential, twice, within the face-value cap', async () => {
    await resellTwice(system);
  }, 120_000);
});
if (!natsUrl)
  console.warn('JetStream end-to-end tests skipped: set NATS_URL (e.g. nats://127.0.0.1:4222) to run them');
