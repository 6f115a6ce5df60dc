/**
 * The consistency checker finds what it is meant to find: a real marketplace is driven to a quiet,
 * consistent state over HTTP, then single rows are changed behind the services' backs, and each
 * change must show as the difference it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@ticketing/common/testing';
import { checkConsistency, type CheckTargets } from '../apps/cluster/src/check-consistency.ts';
import { startOneProcess, User } from './support.ts';

describe('the consistency checker', () => {
  let system: Awaited<ReturnType<typeof startOneProcess>>;
  let targets: CheckTargets;
  let buyer: User;
  let seller: User;

  beforeAll(async () => {
    system = await startOneProcess();
    const url = (service: string) => system.marketplace.services[service]!.database.url;
    targets = { tickets: url('tickets'), orders: url('orders'), payments: url('payments') };
    seller = await new User(system.route).signUp();
    buyer = await new User(system.route).signUp();
  });
  afterAll(() => system.stop());

  /** A ticket at `price`, ordered by the buyer and confirmed; paid too when `pay`. */
  async function anOrder(price: number, pay: boolean) {
    const ticket = await seller.request<{ id: string }>('POST', '/api/tickets', { title: 'show', price });
    const order = await waitFor(async () => {
      const placed = await buyer.request<{ id: string }>('POST', '/api/orders', { ticketId: ticket.body.id });
      return placed.status === 201 ? placed.body : undefined; // 404 until the replica has the ticket
    }, 10_000);
    if (pay) {
      const paid = await buyer.request('POST', '/api/payments', { orderId: order.id, token: 'tok_visa' });
      expect(paid.status).toBe(201);
    }
    const settled = pay ? 'complete' : 'awaiting:payment';
    await waitFor(
      async () =>
        (await buyer.request<{ status: string }>('GET', `/api/orders/${order.id}`)).body.status === settled,
      10_000,
    );
    return { ticketId: ticket.body.id, orderId: order.id };
  }

  const quietReport = async () => {
    let last: string[] = [];
    try {
      return await waitFor(async () => {
        const report = await checkConsistency(targets);
        last = report.differences;
        return report.differences.length === 0 ? report : undefined;
      }, 10_000);
    } catch (error) {
      throw new Error(`not quiet: ${last.join('; ')}`, { cause: error });
    }
  };

  it('finds nothing in a quiet system, and each planted fault as a difference', async () => {
    const confirmed = await anOrder(10, false);
    const paid = await anOrder(20, true);
    const report = await quietReport();
    expect(report.counts).toMatchObject({ complete: 1 });

    // The ticket's price moved under a confirmed order (an edit the saga would have refused).
    await system.query('tickets', 'update tickets set price_cents = 999 where id = $1', [confirmed.ticketId]);
    await system.query('orders', 'update tickets set price_cents = 999 where id = $1', [confirmed.ticketId]);
    // A payment charged another amount than its order's price.
    await system.query('payments', 'update payments set amount_cents = 1 where order_id = $1', [
      paid.orderId,
    ]);
    // An order the tickets service never answered.
    await system.query('orders', "update orders set status = 'created' where id = $1", [paid.orderId]);
    await system.query('payments', "update orders set status = 'created' where id = $1", [paid.orderId]);

    const { differences } = await checkConsistency(targets);
    expect(differences).toEqual(
      expect.arrayContaining([
        `order ${confirmed.orderId}: awaiting:payment at 1000c, but its ticket ${confirmed.ticketId} is held at 999c`,
        `order ${paid.orderId}: priced 2000c but charged 1c`,
        `order ${paid.orderId}: still created (the tickets service has not confirmed or rejected it)`,
        `order ${paid.orderId}: created but has a successful payment`,
      ]),
    );

    // Put back, the system is consistent again (the next test starts from it).
    await system.query('tickets', 'update tickets set price_cents = 1000 where id = $1', [
      confirmed.ticketId,
    ]);
    await system.query('orders', 'update tickets set price_cents = 1000 where id = $1', [confirmed.ticketId]);
    await system.query('payments', 'update payments set amount_cents = 2000 where order_id = $1', [
      paid.orderId,
    ]);
    await system.query('orders', "update orders set status = 'complete' where id = $1", [paid.orderId]);
    await system.query('payments', "update orders set status = 'complete' where id = $1", [paid.orderId]);
    expect((await checkConsistency(targets)).differences).toEqual([]);
  });

  it('finds a ticket owned by the wrong user, a replica that disagrees on the owner, and a code valid twice', async () => {
    const sold = await anOrder(30, true);
    const kept = await anOrder(40, false);
    await quietReport();
    // The sale handed the ticket to the buyer: each owner asks for their credential.
    await waitFor(
      async () => (await buyer.request('GET', `/api/tickets/${sold.ticketId}/credential`)).status === 200,
      10_000,
    );
    expect((await seller.request('GET', `/api/tickets/${kept.ticketId}/credential`)).status).toBe(200);
    expect((await checkConsistency(targets)).differences).toEqual([]);

    // The tickets service gives the sold ticket back to its seller, behind everyone's back.
    await system.query('tickets', 'update tickets set user_id = $2 where id = $1', [
      sold.ticketId,
      seller.id,
    ]);
    // The orders service's replica names another owner for the unsold one.
    await system.query('orders', 'update tickets set seller_id = $2 where id = $1', [
      kept.ticketId,
      buyer.id,
    ]);
    // One code opens two tickets (the unique index would refuse it: planted without it).
    await system.query('tickets', 'drop index tickets_credential_hash_idx');
    await system.query(
      'tickets',
      'update tickets set credential_hash = (select credential_hash from tickets where id = $2) where id = $1',
      [kept.ticketId, sold.ticketId],
    );

    const { differences } = await checkConsistency(targets);
    expect(differences).toEqual(
      expect.arrayContaining([
        `ticket ${sold.ticketId}: owned by ${seller.id}, but its sales make ${buyer.id} the owner`,
        expect.stringMatching(
          new RegExp(
            `^ticket ${kept.ticketId}: tickets has .* owned by ${seller.id}, .*orders has .* owned by ${buyer.id}`,
          ),
        ),
        expect.stringMatching(/^credential [0-9a-f]{12}…: valid for 2 tickets$/),
      ]),
    );
  });
});
