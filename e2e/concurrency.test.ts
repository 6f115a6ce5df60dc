/**
 * The original course app's concurrency story, end to end: 100 tickets, each created at price 5
 * then updated to 10 then 15, all tickets in parallel. Whatever order the events travel in, the
 * orders service's copy of every ticket must end at price 15 and at the tickets service's version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@ticketing/common/testing';
import { startOneProcess, startProcesses, User, type System } from './support.ts';

async function runScenario(system: System, count: number) {
  const seller = await new User(system.route).signUp();
  const ids = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const created = await seller.request<{ id: string }>('POST', '/api/tickets', {
        title: `show ${i}`,
        price: 5,
      });
      expect(created.status).toBe(201);
      const id = created.body.id;
      expect(
        (await seller.request('PUT', `/api/tickets/${id}`, { title: `show ${i}`, price: 10 })).status,
      ).toBe(200);
      expect(
        (await seller.request('PUT', `/api/tickets/${id}`, { title: `show ${i}`, price: 15 })).status,
      ).toBe(200);
      return id;
    }),
  );

  const source = await system.query<{ id: string; price_cents: number; version: number }>(
    'tickets',
    'select id, price_cents, version from tickets where id = any($1)',
    [ids],
  );
  expect(source).toHaveLength(count);
  expect(source.every((t) => t.price_cents === 1500 && t.version === 2)).toBe(true);

  const converged = await waitFor(async () => {
    const replica = await system.query<{ id: string; price_cents: number; version: number }>(
      'orders',
      'select id, price_cents, version from tickets where id = any($1)',
      [ids],
    );
    return replica.length === count && replica.every((t) => t.price_cents === 1500 && t.version === 2)
      ? replica
      : undefined;
  }, 30_000);
  expect(converged).toHaveLength(count);
}

describe('replication under concurrency, one process, in-process bus', () => {
  let system: System;
  beforeAll(async () => (system = await startOneProcess()));
  afterAll(() => system.stop());

  it('converges every replica of 100 tickets updated twice in parallel to price 15 at the same version', async () => {
    await runScenario(system, 100);
  });
});

const natsUrl = process.env.NATS_URL;
describe.runIf(natsUrl)('replication under concurrency, one process per service, JetStream', () => {
  let system: System;
  beforeAll(async () => (system = await startProcesses(natsUrl!)), 90_000);
  afterAll(() => system?.stop());

  it('converges every replica of 100 tickets updated twice in parallel to price 15 at the same version', async () => {
    await runScenario(system, 100);
  });
});
if (!natsUrl)
  console.warn('JetStream end-to-end tests skipped: set NATS_URL (e.g. nats://127.0.0.1:4222) to run them');
