import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import {
  findTicket,
  insertTicket,
  saveTicket,
  StaleTicketError,
} from '../src/data-access/tickets-repository.ts';
import { startTickets } from './fixtures.ts';

describe('ticket optimistic concurrency control', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startTickets()));
  afterAll(() => t.close());
  const db = () => t.database.db;

  it('refuses to save a ticket that changed since it was read', async () => {
    const ticket = await insertTicket(db(), {
      id: randomUUID(),
      title: 'concert',
      priceCents: 500,
      faceValueCents: 500,
      userId: randomUUID(),
    });
    const first = (await findTicket(db(), ticket.id))!;
    const second = (await findTicket(db(), ticket.id))!;
    await saveTicket(db(), { ...first, priceCents: 1000 });
    await expect(saveTicket(db(), { ...second, priceCents: 1500 })).rejects.toBeInstanceOf(StaleTicketError);
    expect((await findTicket(db(), ticket.id))!.priceCents).toBe(1000);
  });

  it('increments the version by one on every save', async () => {
    let ticket = await insertTicket(db(), {
      id: randomUUID(),
      title: 'concert',
      priceCents: 500,
      faceValueCents: 500,
      userId: randomUUID(),
    });
    expect(ticket.version).toBe(0);
    ticket = await saveTicket(db(), ticket);
    expect(ticket.version).toBe(1);
    ticket = await saveTicket(db(), ticket);
    expect(ticket.version).toBe(2);
  });
});
