import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent } from '@ticketing/common';
import { createServiceHarness, type ServiceHarness } from '@ticketing/common/testing';
import { orderCreatedListener } from '../src/entry-points/events/order-created.listener.ts';
import { orderCompletedListener } from '../src/entry-points/events/order-completed.listener.ts';
import { findTicket } from '../src/data-access/tickets-repository.ts';
import { ticketsService } from '../src/service.ts';
import { aTicket, anOrderCreated } from './fixtures.ts';

type Json = Record<string, unknown>;

describe('resale', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await createServiceHarness(ticketsService({ markupPercent: 10 }))));
  afterAll(() => t.close());

  const request = async (method: string, url: string, cookie?: string, payload?: object) => {
    const response = await t.app.inject({
      method: method as 'GET',
      url,
      headers: cookie ? { cookie } : {},
      payload,
    });
    return { status: response.statusCode, body: response.body ? response.json<Json>() : undefined };
  };
  const stored = async (id: string) => (await findTicket(t.database.db, id))!;
  const updatesOf = async (id: string) => (await t.outbox('ticket:updated')).filter((e) => e.data.id === id);
  const rejectionsOf = async (orderId: string) =>
    (await t.outbox('ticket:reservation-rejected'))
      .filter((e) => e.data.orderId === orderId)
      .map((e) => e.data.reason);
  const transfersOf = async (ticketId: string) =>
    (await t.database.pool.query('select * from ticket_transfers where ticket_id = $1', [ticketId])).rows;
  const credential = (id: string, cookie?: string) => request('GET', `/api/tickets/${id}/credential`, cookie);
  const verify = (code: unknown) => request('POST', '/api/tickets/verify', undefined, { code });

  /**
   * The ticket as stored, once its `ticket:updated` events are found to agree with it: one for
   * each version, in order, the last one saying what is stored.
   */
  async function storedAsPublished(id: string) {
    const ticket = await stored(id);
    const updates = (await updatesOf(id)).map((e) => e.data);
    expect(updates.map((u) => u.version)).toEqual(Array.from({ length: ticket.version }, (_, i) => i + 1));
    const last = updates.at(-1);
    if (last) {
      expect(last).toMatchObject({
        version: ticket.version,
        price: ticket.priceCents,
        listed: ticket.listed,
        userId: ticket.userId,
      });
      expect(last.orderId ?? null).toBe(ticket.orderId);
    }
    return ticket;
  }
  const completed = (orderId: string, ticketId: string, buyerId: string, version = 2) => ({
    id: orderId,
    version,
    userId: buyerId,
    ticket: { id: ticketId },
  });

  /** A ticket listed by A and held for B's order, as the tickets service sees them. */
  async function heldForABuyer(options: { price?: number } = {}) {
    const { ticket, cookie: sellerCookie } = await aTicket(t, { price: options.price ?? 50 });
    const buyer = await t.signIn();
    const order = { ...anOrderCreated(ticket), userId: buyer.user.id };
    expect(await t.deliver(orderCreatedListener, order)).toEqual({ kind: 'ack' });
    return { ticket, sellerCookie, buyer, order };
  }

  /** A ticket A sold to B: the order held it and completed. */
  async function soldToABuyer() {
    const held = await heldForABuyer();
    const outcome = await t.deliver(
      orderCompletedListener,
      completed(held.order.id, held.ticket.id, held.buyer.user.id),
    );
    expect(outcome).toEqual({ kind: 'ack' });
    return held;
  }

  describe('face value and the cap', () => {
    it('takes the face value from the price unless given, and shows the cap', async () => {
      const { cookie } = await t.signIn();
      const plain = await request('POST', '/api/tickets', cookie, { title: 'gig', price: 40 });
      expect(plain.body).toMatchObject({
        price: 40,
        faceValue: 40,
        maxPrice: 44,
        listed: true,
        timesSold: 0,
      });
      const below = await request('POST', '/api/tickets', cookie, { title: 'gig', price: 40, faceValue: 50 });
      expect(below.body).toMatchObject({ price: 40, faceValue: 50, maxPrice: 55 });
    });

    it('accepts a price at the cap and refuses a cent above it, saying the cap', async () => {
      const { cookie } = await t.signIn();
      const at = await request('POST', '/api/tickets', cookie, { title: 'gig', price: 55, faceValue: 50 });
      expect(at.status).toBe(201);
      const above = await request('POST', '/api/tickets', cookie, {
        title: 'gig',
        price: 55.01,
        faceValue: 50,
      });
      expect(above).toEqual({
        status: 400,
        body: {
          errors: [
            { message: 'price must be at most 55.00: 10% above its face value of 50.00', field: 'price' },
          ],
        },
      });
    });

    it('caps at the face value itself when the markup is 0', async () => {
      const strict = await createServiceHarness(ticketsService({ markupPercent: 0 }));
      try {
        const { cookie } = await strict.signIn();
        const post = (price: number) =>
          strict.app.inject({
            method: 'POST',
            url: '/api/tickets',
            headers: { cookie },
            payload: { title: 'gig', price, faceValue: 30 },
          });
        expect((await post(30)).statusCode).toBe(201);
        const above = await post(30.01);
        expect(above.statusCode).toBe(400);
        expect(above.json().errors).toEqual([
          { message: 'price must be at most 30.00: its face value, 30.00', field: 'price' },
        ]);
      } finally {
        await strict.close();
      }
    });

    it('caps an edit too, and lets a ticket never sold change its face value', async () => {
      const { ticket, cookie } = await aTicket(t, { price: 20 });
      const tooHigh = await request('PUT', `/api/tickets/${ticket.id}`, cookie, {
        title: 'concert',
        price: 22.01,
        faceValue: 20,
      });
      expect(tooHigh.status).toBe(400);
      const raised = await request('PUT', `/api/tickets/${ticket.id}`, cookie, {
        title: 'concert',
        price: 30,
        faceValue: 30,
      });
      expect(raised.body).toMatchObject({ price: 30, faceValue: 30 });
    });
  });

  describe('the sale: order:completed', () => {
    it('hands the ticket to the buyer, unlisted, held by nobody, as a new version', async () => {
      const { ticket, buyer, order } = await soldToABuyer();
      expect(await stored(ticket.id)).toMatchObject({
        userId: buyer.user.id,
        listed: false,
        orderId: null,
        timesSold: 1,
        faceValueCents: 5000,
        version: 2,
      });
      expect((await updatesOf(ticket.id)).map((e) => e.data).at(-1)).toEqual({
        id: ticket.id,
        version: 2,
        title: 'concert',
        price: 5000,
        faceValue: 5000,
        userId: buyer.user.id,
        listed: false,
        timesSold: 1,
      });
      const transfers = await t.database.pool.query('select * from ticket_transfers where order_id = $1', [
        order.id,
      ]);
      expect(transfers.rows).toEqual([
        expect.objectContaining({
          ticket_id: ticket.id,
          from_user_id: ticket.userId,
          to_user_id: buyer.user.id,
          price_cents: 5000,
        }),
      ]);
    });

    it('has one effect however often the completion is delivered, as the same event or another', async () => {
      const { ticket, buyer, order } = await soldToABuyer();
      const again = makeEvent('order:completed', completed(order.id, ticket.id, buyer.user.id));
      expect(await t.deliver(orderCompletedListener, again)).toEqual({ kind: 'ack' });
      expect(await t.deliver(orderCompletedListener, again)).toEqual({ kind: 'ack' });
      expect((await stored(ticket.id)).version).toBe(2);
      expect(await updatesOf(ticket.id)).toHaveLength(2); // the hold and the sale
    });

    it('waits for the hold when the completion arrives first, then applies once', async () => {
      const { ticket } = await aTicket(t, { price: 50 });
      const buyer = await t.signIn();
      const order = { ...anOrderCreated(ticket), userId: buyer.user.id };
      const early = await t.deliver(orderCompletedListener, completed(order.id, ticket.id, buyer.user.id));
      expect(early.kind).toBe('retry');
      expect(await stored(ticket.id)).toMatchObject({ userId: ticket.userId, listed: true, version: 0 });
      await t.deliver(orderCreatedListener, order);
      expect(await t.deliver(orderCompletedListener, completed(order.id, ticket.id, buyer.user.id))).toEqual({
        kind: 'ack',
      });
      expect(await stored(ticket.id)).toMatchObject({ userId: buyer.user.id, version: 2 });
    });

    it('leaves the old completion of a ticket resold since without effect', async () => {
      const first = await soldToABuyer();
      await request('POST', `/api/tickets/${first.ticket.id}/listing`, first.buyer.cookie, { price: 50 });
      const third = await t.signIn();
      const resale = {
        ...anOrderCreated({ ...first.ticket, version: 3, userId: first.buyer.user.id }),
        userId: third.user.id,
      };
      expect(await t.deliver(orderCreatedListener, resale)).toEqual({ kind: 'ack' });
      await t.deliver(orderCompletedListener, completed(resale.id, first.ticket.id, third.user.id));
      expect(await stored(first.ticket.id)).toMatchObject({
        userId: third.user.id,
        timesSold: 2,
        version: 5,
      });
      // The first sale's completion, delivered again after all that:
      expect(
        await t.deliver(
          orderCompletedListener,
          completed(first.order.id, first.ticket.id, first.buyer.user.id),
        ),
      ).toEqual({ kind: 'ack' });
      expect(await stored(first.ticket.id)).toMatchObject({ userId: third.user.id, version: 5 });
    });

    it('survives a crash as the hand-over commits: delivered again, it takes effect once', async () => {
      const { ticket, sellerCookie, buyer, order } = await heldForABuyer();
      const sellers = (await credential(ticket.id, sellerCookie)).body!.code;
      // The handler's connection dies in its COMMIT, after the transfer, the new owner and the
      // outbox row were written: a trigger deferred to the commit terminates its own backend.
      await t.database.pool.query(`
        create function die_at_commit() returns trigger language plpgsql as $$
        begin
          perform pg_terminate_backend(pg_backend_pid());
          return null;
        end $$`);
      await t.database.pool.query(`
        create constraint trigger die_at_commit after insert on ticket_transfers
        deferrable initially deferred for each row
        when (new.order_id = '${order.id}') execute function die_at_commit()`);
      const event = makeEvent('order:completed', completed(order.id, ticket.id, buyer.user.id));
      try {
        expect(await t.deliver(orderCompletedListener, event)).toMatchObject({
          kind: 'retry',
          transient: true,
        });
      } finally {
        await t.database.pool.query('drop trigger die_at_commit on ticket_transfers');
        await t.database.pool.query('drop function die_at_commit()');
      }
      // Nothing of it was kept: the seller still owns the held ticket, and may still go in.
      expect(await storedAsPublished(ticket.id)).toMatchObject({
        userId: ticket.userId,
        orderId: order.id,
        version: 1,
      });
      expect(await transfersOf(ticket.id)).toEqual([]);
      expect((await verify(sellers)).body).toMatchObject({ valid: true });

      // The broker delivers the event again, then the orders service announces it once more.
      expect(await t.deliver(orderCompletedListener, event)).toEqual({ kind: 'ack' });
      const another = completed(order.id, ticket.id, buyer.user.id);
      expect(await t.deliver(orderCompletedListener, another)).toEqual({ kind: 'ack' });

      expect(await storedAsPublished(ticket.id)).toMatchObject({
        userId: buyer.user.id,
        listed: false,
        orderId: null,
        timesSold: 1,
        version: 2, // the hold and the sale, each once
      });
      expect(await transfersOf(ticket.id)).toEqual([
        expect.objectContaining({
          order_id: order.id,
          from_user_id: ticket.userId,
          to_user_id: buyer.user.id,
        }),
      ]);
      expect((await verify(sellers)).body).toEqual({ valid: false });
      expect((await credential(ticket.id, sellerCookie)).status).toBe(401);
    });
  });

  describe('listing and withdrawing', () => {
    it('lets the new owner list it again within the cap, and nobody else', async () => {
      const { ticket, buyer, sellerCookie } = await soldToABuyer();
      const url = `/api/tickets/${ticket.id}/listing`;
      expect((await request('POST', url, sellerCookie, { price: 40 })).status).toBe(401);
      expect((await request('POST', url, undefined, { price: 40 })).status).toBe(401);
      const above = await request('POST', url, buyer.cookie, { price: 55.01 });
      expect(above).toMatchObject({ status: 400, body: { errors: [{ field: 'price' }] } });
      const listed = await request('POST', url, buyer.cookie, { price: 55 });
      expect(listed).toMatchObject({
        status: 200,
        body: { listed: true, price: 55, userId: buyer.user.id, version: 3 },
      });
      // Listing it again at the same price changes nothing.
      expect((await request('POST', url, buyer.cookie, { price: 55 })).body).toMatchObject({ version: 3 });
      expect(
        (await request('POST', `/api/tickets/${randomUUID()}/listing`, buyer.cookie, { price: 5 })).status,
      ).toBe(404);
    });

    it('fixes the title and the face value once sold, but not the price', async () => {
      const { ticket, buyer } = await soldToABuyer();
      const url = `/api/tickets/${ticket.id}`;
      const retitled = await request('PUT', url, buyer.cookie, { title: 'better concert', price: 50 });
      expect(retitled).toMatchObject({ status: 400, body: { errors: [{ field: 'title' }] } });
      const revalued = await request('PUT', url, buyer.cookie, {
        title: 'concert',
        price: 50,
        faceValue: 80,
      });
      expect(revalued).toMatchObject({ status: 400, body: { errors: [{ field: 'faceValue' }] } });
      const repriced = await request('PUT', url, buyer.cookie, { title: 'concert', price: 45 });
      expect(repriced.body).toMatchObject({ price: 45, faceValue: 50 });
    });

    it('withdraws a listed ticket (204), and again changes nothing', async () => {
      const { ticket, cookie } = await aTicket(t);
      const url = `/api/tickets/${ticket.id}/listing`;
      expect((await request('DELETE', url, cookie)).status).toBe(204);
      expect(await stored(ticket.id)).toMatchObject({ listed: false, version: 1 });
      expect((await request('DELETE', url, cookie)).status).toBe(204);
      expect((await stored(ticket.id)).version).toBe(1);
      const { cookie: stranger } = await t.signIn();
      expect((await request('DELETE', url, stranger)).status).toBe(401);
    });

    it('refuses to withdraw or relist a ticket an order holds', async () => {
      const { ticket, sellerCookie } = await heldForABuyer();
      const url = `/api/tickets/${ticket.id}/listing`;
      expect((await request('DELETE', url, sellerCookie)).status).toBe(400);
      expect((await request('POST', url, sellerCookie, { price: 45 })).status).toBe(400);
      expect(await stored(ticket.id)).toMatchObject({ listed: true, version: 1 });
    });

    it('decides every race between a withdrawal and an incoming order one way or the other', async () => {
      const races = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const { ticket, cookie } = await aTicket(t);
          const order = anOrderCreated(ticket);
          const [withdrawal, delivery] = await Promise.all([
            request('DELETE', `/api/tickets/${ticket.id}/listing`, cookie),
            t.deliver(orderCreatedListener, order),
          ]);
          expect(delivery).toEqual({ kind: 'ack' });
          const rejected = (await t.outbox('ticket:reservation-rejected')).some(
            (e) => e.data.orderId === order.id,
          );
          return { withdrawn: withdrawal.status === 204, rejected, ticket: await stored(ticket.id), order };
        }),
      );
      for (const race of races) {
        if (race.withdrawn) {
          // The withdrawal came first: the order was refused, the ticket is off sale and free.
          expect(race.rejected).toBe(true);
          expect(race.ticket).toMatchObject({ listed: false, orderId: null });
        } else {
          // The hold came first: the withdrawal was refused, the order holds the listed ticket.
          expect(race.rejected).toBe(false);
          expect(race.ticket).toMatchObject({ listed: true, orderId: race.order.id });
        }
      }
    });

    it('decides every race between a new price and an incoming order one way or the other', async () => {
      const races = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const { ticket, cookie } = await aTicket(t); // at 20, its face value: the cap is 22
          const order = anOrderCreated(ticket); // priced at 20
          const [listing, delivery] = await Promise.all([
            request('POST', `/api/tickets/${ticket.id}/listing`, cookie, { price: 22 }),
            t.deliver(orderCreatedListener, order),
          ]);
          expect(delivery).toEqual({ kind: 'ack' });
          const rejections = await rejectionsOf(order.id);
          return { listing, order, rejections, ticket: await storedAsPublished(ticket.id) };
        }),
      );
      for (const race of races) {
        if (race.listing.status === 200) {
          // The new price came first: the order, priced at 20, was refused; the ticket is for sale at 22.
          expect(race.listing.body).toMatchObject({ listed: true, price: 22, version: 1 });
          expect(race.rejections).toEqual(['changed']);
          expect(race.ticket).toMatchObject({ listed: true, priceCents: 2200, orderId: null, version: 1 });
        } else {
          // The hold came first: the new price was refused; the order holds the ticket at its price.
          expect(race.listing).toEqual({
            status: 400,
            body: { errors: [{ message: 'An order holds this ticket; it cannot change now' }] },
          });
          expect(race.rejections).toEqual([]);
          expect(race.ticket).toMatchObject({
            listed: true,
            priceCents: 2000,
            orderId: race.order.id,
            version: 1,
          });
        }
      }
    });

    it('decides every race between relisting a withdrawn ticket and an incoming order one way or the other', async () => {
      const races = await Promise.all(
        Array.from({ length: 20 }, async (_, round) => {
          const { ticket, cookie } = await aTicket(t);
          const order = anOrderCreated(ticket); // placed at 20 while the ticket was listed
          const url = `/api/tickets/${ticket.id}/listing`;
          expect((await request('DELETE', url, cookie)).status).toBe(204);
          // Every other round relists it at the order's price, the others at another.
          const price = round % 2 === 0 ? 20 : 21;
          const [listing, delivery] = await Promise.all([
            request('POST', url, cookie, { price }),
            t.deliver(orderCreatedListener, order),
          ]);
          expect(delivery).toEqual({ kind: 'ack' });
          const rejections = await rejectionsOf(order.id);
          return { price, listing, order, rejections, ticket: await storedAsPublished(ticket.id) };
        }),
      );
      for (const race of races) {
        // No order holds the ticket before the listing: it is never refused.
        expect(race.listing).toMatchObject({
          status: 200,
          body: { listed: true, price: race.price, version: 2 },
        });
        if (race.rejections.length === 0) {
          // Relisted at the order's price before the order came: the order holds it at that price.
          expect(race.price).toBe(20);
          expect(race.ticket).toMatchObject({
            listed: true,
            priceCents: 2000,
            orderId: race.order.id,
            version: 3,
          });
        } else {
          // Refused: as withdrawn when the order came first, as changed when the other price did.
          expect(race.rejections).toHaveLength(1);
          expect(race.price === 20 ? ['withdrawn'] : ['withdrawn', 'changed']).toContain(race.rejections[0]);
          expect(race.ticket).toMatchObject({
            listed: true,
            priceCents: race.price * 100,
            orderId: null,
            version: 2,
          });
        }
      }
    });

    it('rejects an order that reaches a ticket withdrawn meanwhile', async () => {
      const { ticket, cookie } = await aTicket(t);
      const order = anOrderCreated(ticket);
      await request('DELETE', `/api/tickets/${ticket.id}/listing`, cookie);
      expect(await t.deliver(orderCreatedListener, order)).toEqual({ kind: 'ack' });
      expect(await stored(ticket.id)).toMatchObject({ orderId: null, listed: false });
      const rejections = (await t.outbox('ticket:reservation-rejected')).filter(
        (e) => e.data.orderId === order.id,
      );
      expect(rejections.map((e) => e.data)).toEqual([
        { id: ticket.id, orderId: order.id, reason: 'withdrawn' },
      ]);
    });

    it('rejects an order placed with an owner who no longer has the ticket', async () => {
      const { ticket } = await aTicket(t);
      const order = {
        ...anOrderCreated(ticket),
        ticket: { ...anOrderCreated(ticket).ticket, sellerId: randomUUID() },
      };
      await t.deliver(orderCreatedListener, order);
      const rejections = (await t.outbox('ticket:reservation-rejected')).filter(
        (e) => e.data.orderId === order.id,
      );
      expect(rejections.map((e) => e.data.reason)).toEqual(['changed']);
    });
  });

  describe('who sees what', () => {
    it('shows an unlisted ticket only to its owner, and lists only tickets for sale', async () => {
      const { ticket, buyer, sellerCookie } = await soldToABuyer();
      const url = `/api/tickets/${ticket.id}`;
      expect((await request('GET', url, buyer.cookie)).body).toMatchObject({
        userId: buyer.user.id,
        listed: false,
      });
      expect((await request('GET', url, sellerCookie)).status).toBe(404);
      expect((await request('GET', url)).status).toBe(404);
      const page = await request('GET', '/api/tickets?limit=100');
      expect((page.body as unknown as Json[]).map((x) => x.id)).not.toContain(ticket.id);
    });

    it('gives each owner every ticket they own, held by an order or not, the most recently acquired first', async () => {
      const { ticket: bought, buyer } = await soldToABuyer();
      const { ticket: listed } = await aTicket(t, { cookie: buyer.cookie, title: 'my own' });
      const { ticket: held } = await aTicket(t, { cookie: buyer.cookie, title: 'on hold' });
      const order = anOrderCreated(held);
      expect(await t.deliver(orderCreatedListener, order)).toEqual({ kind: 'ack' });
      const mine = await request('GET', '/api/tickets/mine', buyer.cookie);
      expect(mine.body!.tickets).toEqual([
        expect.objectContaining({ id: held.id, listed: true, orderId: order.id, userId: buyer.user.id }),
        expect.objectContaining({ id: listed.id, listed: true, userId: buyer.user.id }),
        expect.objectContaining({ id: bought.id, listed: false, userId: buyer.user.id }),
      ]);
      const [, ...free] = mine.body!.tickets as Json[];
      expect(free.map((x) => x.orderId)).toEqual([undefined, undefined]);
      expect((await request('GET', '/api/tickets/mine')).status).toBe(401);
    });
  });

  describe('the credential', () => {
    it("is the owner's alone, the same on every request, and verifies", async () => {
      const { ticket, cookie } = await aTicket(t, { title: 'opera' });
      const first = await credential(ticket.id, cookie);
      expect(first.body!.code).toMatch(/^[A-Z2-7]{32}$/);
      expect((await credential(ticket.id, cookie)).body).toEqual(first.body);
      const { cookie: stranger } = await t.signIn();
      expect((await credential(ticket.id, stranger)).status).toBe(401);
      expect((await credential(ticket.id)).status).toBe(401);
      expect((await credential(randomUUID(), cookie)).status).toBe(404);
      expect(await verify(first.body!.code)).toEqual({
        status: 200,
        body: { valid: true, ticketId: ticket.id, title: 'opera' },
      });
      // As a person might type it.
      const typed = (first.body!.code as string).toLowerCase().replace(/(.{4})/g, '$1 ');
      expect((await verify(typed)).body).toMatchObject({ valid: true });
    });

    it('stores only a seed and a hash, never the code', async () => {
      const { ticket, cookie } = await aTicket(t);
      const { code } = (await credential(ticket.id, cookie)).body as { code: string };
      const { rows } = await t.database.pool.query('select * from tickets where id = $1', [ticket.id]);
      expect(JSON.stringify(rows[0])).not.toContain(code);
      expect(
        Object.values(rows[0] as object).some((v) => Buffer.isBuffer(v) && v.toString().includes(code)),
      ).toBe(false);
    });

    it("keeps working while listed and held, and stops the moment the buyer owns the ticket; the buyer's is new", async () => {
      const held = await heldForABuyer();
      const sellers = (await credential(held.ticket.id, held.sellerCookie)).body!.code;
      expect((await verify(sellers)).body).toMatchObject({ valid: true });
      await t.deliver(orderCompletedListener, completed(held.order.id, held.ticket.id, held.buyer.user.id));
      expect((await verify(sellers)).body).toEqual({ valid: false });
      expect((await credential(held.ticket.id, held.sellerCookie)).status).toBe(401);
      const buyers = (await credential(held.ticket.id, held.buyer.cookie)).body!.code;
      expect(buyers).not.toBe(sellers);
      expect((await verify(buyers)).body).toEqual({
        valid: true,
        ticketId: held.ticket.id,
        title: 'concert',
      });
    });

    it('issues one credential when the first two requests race', async () => {
      const { ticket, cookie } = await aTicket(t);
      const codes = await Promise.all([1, 2, 3, 4].map(() => credential(ticket.id, cookie)));
      expect(new Set(codes.map((c) => c.body!.code)).size).toBe(1);
    });

    it('answers every code that is not valid with the same body', async () => {
      for (const code of ['', 'nope', 'A'.repeat(32), '7'.repeat(32), 'Ü'.repeat(32), 'A'.repeat(200)]) {
        expect(await verify(code)).toEqual({ status: 200, body: { valid: false } });
      }
      expect((await verify(12)).status).toBe(400);
      expect((await verify('A'.repeat(201))).status).toBe(400);
    });
  });
});
