import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import { makeEvent } from '@ticketing/common';
import { ticketCreatedListener } from '../src/entry-points/events/ticket-created.listener.ts';
import { ticketUpdatedListener } from '../src/entry-points/events/ticket-updated.listener.ts';
import { findTicket } from '../src/data-access/orders-repository.ts';
import { aTicket, startOrders } from './fixtures.ts';

describe('orders listeners: the ticket replica', () => {
  let o: ServiceHarness;
  beforeAll(async () => (o = await startOrders()));
  afterAll(() => o.close());
  const replica = (id: string) => findTicket(o.database.db, id);
  const update = (ticket: { id: string; userId: string }, version: number, price: number) => ({
    id: ticket.id,
    version,
    title: `v${version}`,
    price,
    faceValue: 2000,
    userId: ticket.userId,
    listed: true,
    timesSold: 0,
  });

  describe('ticket:created', () => {
    it('creates and saves a ticket with the same id and version, and acks', async () => {
      const data = {
        id: randomUUID(),
        version: 0,
        title: 'concert',
        price: 1000,
        faceValue: 1000,
        userId: randomUUID(),
        listed: true,
        timesSold: 0,
      };
      expect(await o.deliver(ticketCreatedListener, data)).toEqual({ kind: 'ack' });
      expect(await replica(data.id)).toEqual({
        id: data.id,
        title: 'concert',
        priceCents: 1000,
        sellerId: data.userId,
        listed: true,
        timesSold: 0,
        startsAt: null,
        version: 0,
      });
    });
  });

  describe('ticket:updated', () => {
    it('finds, updates and saves the ticket, and acks', async () => {
      const ticket = await aTicket(o);
      expect(await o.deliver(ticketUpdatedListener, update(ticket, 1, 999))).toEqual({ kind: 'ack' });
      expect(await replica(ticket.id)).toMatchObject({ title: 'v1', priceCents: 999, version: 1 });
    });

    it('applies a version over a gap: each carries the whole ticket', async () => {
      const ticket = await aTicket(o);
      expect(await o.deliver(ticketUpdatedListener, update(ticket, 10, 999))).toEqual({ kind: 'ack' });
      expect(await replica(ticket.id)).toMatchObject({ version: 10, priceCents: 999, title: 'v10' });
    });

    it('applies v3 delivered before v2 at once; v2 then changes nothing, ending at v3', async () => {
      const ticket = await aTicket(o);
      expect((await o.deliver(ticketUpdatedListener, update(ticket, 1, 100))).kind).toBe('ack');
      expect((await o.deliver(ticketUpdatedListener, update(ticket, 3, 300))).kind).toBe('ack');
      expect((await o.deliver(ticketUpdatedListener, update(ticket, 2, 200))).kind).toBe('ack');
      expect(await replica(ticket.id)).toMatchObject({ version: 3, priceCents: 300 });
    });

    it('acknowledges an old version without effect', async () => {
      const ticket = await aTicket(o);
      await o.deliver(ticketUpdatedListener, update(ticket, 1, 100));
      await o.deliver(ticketUpdatedListener, update(ticket, 2, 200));
      expect(await o.deliver(ticketUpdatedListener, update(ticket, 1, 100))).toEqual({ kind: 'ack' });
      expect(await replica(ticket.id)).toMatchObject({ version: 2, priceCents: 200 });
    });

    it('has one effect when the same event is delivered twice', async () => {
      const ticket = await aTicket(o);
      const event = makeEvent('ticket:updated', update(ticket, 1, 100));
      await o.deliver(ticketUpdatedListener, event);
      await o.deliver(ticketUpdatedListener, event);
      expect(await replica(ticket.id)).toMatchObject({ version: 1, priceCents: 100 });
    });

    it('retries an update for a ticket it has not heard of yet', async () => {
      const outcome = await o.deliver(
        ticketUpdatedListener,
        update({ id: randomUUID(), userId: randomUUID() }, 1, 5),
      );
      expect(outcome.kind).toBe('retry');
    });
  });
});
