import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceHarness } from '@ticketing/common/testing';
import {
  findTicket,
  insertTicket,
  saveTicketAndPublish,
  StaleTicketError,
  storeCredential,
  type Ticket,
  type TicketChanges,
} from '../src/data-access/tickets-repository.ts';
import { startTickets } from './fixtures.ts';

describe('ticket optimistic concurrency control', () => {
  let t: ServiceHarness;
  beforeAll(async () => (t = await startTickets()));
  afterAll(() => t.close());
  const db = () => t.database.db;
  /** Saves in a transaction of its own; the event names the version saved. */
  const saveTicket = (ticket: Ticket, changes: TicketChanges = {}) =>
    db().transaction((tx) =>
      saveTicketAndPublish(tx, ticket, changes, (saved) => ({
        id: saved.id,
        version: saved.version,
        title: saved.title,
        price: saved.priceCents,
        faceValue: saved.faceValueCents,
        userId: saved.userId,
        listed: saved.listed,
        timesSold: saved.timesSold,
      })),
    );
  const queued = async (id: string) =>
    (
      await t.database.pool.query<{ version: number }>(
        "select (envelope->'data'->>'version')::int as version from outbox where entity_id = $1 order by seq",
        [id],
      )
    ).rows.map((row) => row.version);

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
    await saveTicket(first, { priceCents: 1000 });
    await expect(saveTicket(second, { priceCents: 1500 })).rejects.toBeInstanceOf(StaleTicketError);
    expect((await findTicket(db(), ticket.id))!.priceCents).toBe(1000);
    expect(await queued(ticket.id)).toEqual([1]); // the stale save queued nothing
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
    ticket = await saveTicket(ticket);
    expect(ticket.version).toBe(1);
    ticket = await saveTicket(ticket);
    expect(ticket.version).toBe(2);
    expect((await findTicket(db(), ticket.id))!.version).toBe(2);
    expect(await queued(ticket.id)).toEqual([1, 2]);
  });

  it('writes only what it changes: a credential issued after the read stays', async () => {
    const owner = randomUUID();
    const ticket = await insertTicket(db(), {
      id: randomUUID(),
      title: 'concert',
      priceCents: 500,
      faceValueCents: 500,
      userId: owner,
    });
    const read = (await findTicket(db(), ticket.id))!;
    // Issued outside the versions (the owner's first request for it) between the read and the save.
    const credential = { seed: Buffer.alloc(16, 7), hash: Buffer.alloc(32, 9) };
    expect(await storeCredential(db(), ticket.id, owner, credential)).toBeDefined();
    const saved = await saveTicket(read, { priceCents: 900 });
    expect(saved.version).toBe(1);
    const stored = (await findTicket(db(), ticket.id))!;
    expect(stored).toMatchObject({ priceCents: 900, version: 1 });
    expect(stored.credentialSeed).toEqual(credential.seed);
    expect(stored.credentialHash).toEqual(credential.hash);
  });
});
