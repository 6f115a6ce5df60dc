import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, createContextKey } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { sql } from 'drizzle-orm';
import { migrateDatabase } from '../src/db/database.ts';
import { makeEvent } from '../src/events/contract.ts';
import { InProcessBus } from '../src/messaging/in-process.ts';
import {
  defineListener,
  ListenerQueue,
  type Listener,
  PostgresDeadLetters,
  processEvent,
  purgeInbox,
  RetryLater,
  startListeners,
  UnprocessableEvent,
} from '../src/messaging/listener.ts';
import { publishEvent } from '../src/messaging/outbox.ts';
import type { Outcome } from '../src/messaging/consumer.ts';
import { createTestDatabase, silentLogger, sleep, waitFor } from '../src/testing/index.ts';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

/** A listener that keeps a count per ticket and refuses versions from the future. */
const countingListener = defineListener('ticket:updated', async ({ tx, data }) => {
  const { rows } = await tx.execute<{ version: number }>(
    sql`select version from counters where id = ${data.id}`,
  );
  const current = rows[0]?.version ?? -1;
  if (data.version <= current) return; // the past: already applied
  if (data.version > current + 1) throw new RetryLater(`version ${data.version} before ${current + 1}`);
  await tx.execute(sql`
    insert into counters (id, version, applied) values (${data.id}, ${data.version}, 1)
    on conflict (id) do update set version = excluded.version, applied = counters.applied + 1`);
  await publishEvent(tx, 'ticket:created', { ...data, orderId: undefined } as never);
});

type Event = ReturnType<typeof updated>;
const updated = (id: string, version: number) =>
  makeEvent('ticket:updated', {
    id,
    version,
    title: 'x',
    price: 100,
    faceValue: 100,
    userId: randomUUID(),
    listed: true,
    timesSold: 0,
  });

describe('idempotent, version-aware listeners', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database);
    await database.pool.query(
      'create table counters (id uuid primary key, version int not null, applied int not null)',
    );
  });
  afterAll(() => database.drop());

  const applied = async (id: string) =>
    (await database.pool.query('select version, applied from counters where id = $1', [id])).rows[0] as
      { version: number; applied: number } | undefined;
  const outboxCount = async () =>
    (await database.pool.query('select count(*)::int as n from outbox')).rows[0].n as number;

  it('applies an event once even when it is delivered twice', async () => {
    const id = randomUUID();
    const event = updated(id, 0);
    const before = await outboxCount();
    expect(await processEvent(database, 'g', countingListener, event, silentLogger)).toEqual({ kind: 'ack' });
    expect(await processEvent(database, 'g', countingListener, event, silentLogger)).toEqual({ kind: 'ack' });
    expect(await applied(id)).toEqual({ version: 0, applied: 1 });
    expect(await outboxCount()).toBe(before + 1);
  });

  it('asks for a retry, without effect, for a version from the future', async () => {
    const id = randomUUID();
    await processEvent(database, 'g', countingListener, updated(id, 0), silentLogger);
    const outcome = await processEvent(database, 'g', countingListener, updated(id, 2), silentLogger);
    expect(outcome).toMatchObject({ kind: 'retry', early: true });
    expect(await applied(id)).toEqual({ version: 0, applied: 1 });
  });

  it('keeps the attempt ledger in the database, a line per consumer and event', async () => {
    const store = new PostgresDeadLetters(database);
    const eventId = randomUUID();
    expect(await store.recordAnswer('g', eventId, 'failure')).toMatchObject({
      started: 0,
      failures: 1,
      deferrals: 0,
      waitedMs: 0,
    });
    expect(await store.beginRedelivery('g', eventId)).toMatchObject({ started: 1, failures: 1 });
    const deferred = await store.recordAnswer('g', eventId, 'deferral');
    expect(deferred).toMatchObject({ started: 1, failures: 1, deferrals: 1 });
    expect(deferred.waitedMs).toBeGreaterThanOrEqual(0);
    expect(await store.beginRedelivery('other', eventId)).toMatchObject({
      started: 1,
      failures: 0,
      deferrals: 0,
    });
    expect(await store.recordAnswer('g', eventId, 'outage')).toMatchObject({ outages: 1, deferrals: 1 });
    await store.forget('g', eventId);
    expect(await store.beginRedelivery('g', eventId)).toMatchObject({
      started: 1,
      failures: 0,
      deferrals: 0,
    });
  });

  it('records an event given up on once per consumer, however many deliveries give up on it', async () => {
    const store = new PostgresDeadLetters(database);
    const letter = {
      consumer: 'once',
      subject: 'ticket:updated',
      eventId: randomUUID(),
      body: {},
      reason: 'x',
      deliveryCount: 1,
    };
    await store.record(letter);
    await store.record({ ...letter, reason: 'y', deliveryCount: 2 });
    await store.record({ ...letter, consumer: 'other' });
    const rows = (await store.list()).filter((l) => l.eventId === letter.eventId);
    expect(rows.map((l) => [l.consumer, l.reason])).toEqual([
      ['once', 'x'],
      ['other', 'x'],
    ]);
  });

  it('purges inbox rows and ledger lines older than a week, and keeps the rest', async () => {
    const [old, recent] = [randomUUID(), randomUUID()];
    await database.pool.query(
      `insert into inbox (consumer, event_id, processed_at) values ('p', $1, now() - interval '8 days'), ('p', $2, now())`,
      [old, recent],
    );
    await database.pool.query(
      `insert into delivery_attempts (consumer, event_id, updated_at) values ('p', $1, now() - interval '8 days'), ('p', $2, now())`,
      [old, recent],
    );
    await purgeInbox(database);
    for (const table of ['inbox', 'delivery_attempts']) {
      const { rows } = await database.pool.query(
        `select event_id::text as id from ${table} where consumer = 'p'`,
      );
      expect(rows.map((r: { id: string }) => r.id)).toEqual([recent]);
    }
  });

  it('dead-letters a payload that does not match its schema', async () => {
    const outcome = await processEvent(
      database,
      'g',
      countingListener,
      { ...updated(randomUUID(), 0), data: { id: 'not-a-uuid' } },
      silentLogger,
    );
    expect(outcome.kind).toBe('dead-letter');
    expect(outcome.kind === 'dead-letter' && outcome.reason).toMatch(/invalid ticket:updated payload/);
  });

  it('over a bus: applies out-of-order versions in order, and keeps poison events as dead letters', async () => {
    const bus = new InProcessBus();
    const subscription = await startListeners({
      group: 'g2',
      database,
      transport: bus,
      listeners: [countingListener],
      logger: silentLogger,
      // Early versions wait on their own budget (maxEarlyWaitMs), not maxDeliver.
      policy: { baseDelayMs: 10, maxDelayMs: 50, maxDeliver: 2 },
    });
    const id = randomUUID();
    const events = [3, 1, 0, 2].map((v) => updated(id, v));
    const poison = {
      id: randomUUID(),
      type: 'ticket:updated',
      occurredAt: new Date().toISOString(),
      data: { price: -1 },
    };
    await Promise.all([
      ...events.map((e) => bus.publish(e.type, e.id, e)),
      bus.publish('ticket:updated', poison.id, poison),
      bus.publish(events[0]!.type, events[0]!.id, events[0]), // a duplicate
    ]);
    expect(await applied(id)).toEqual({ version: 3, applied: 4 });
    const letters = await waitFor(async () => {
      const list = (await new PostgresDeadLetters(database).list()).filter((l) => l.consumer === 'g2');
      return list.length > 0 ? list : undefined;
    });
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      consumer: 'g2',
      eventId: poison.id,
      type: 'ticket:updated',
      deliveryCount: 1,
    });
    expect(letters[0]!.reason).toMatch(/price/);
    await subscription.close();
    await bus.close();
  });
});

describe('deliveries sharing transactions (ListenerQueue)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database);
    await database.pool.query('create table applications (event_id uuid not null, txid bigint not null)');
  });
  afterAll(() => database.drop());

  /** Every run of the handler, committed or not: the event and its transaction. */
  const attempts: { id: string; txid: string }[] = [];
  const attemptsOf = (id: string) => attempts.filter((a) => a.id === id);
  /** Notes each application with its transaction; some titles misbehave. */
  const notingListener = defineListener('ticket:updated', async ({ tx, event, data }) => {
    const { rows } = await tx.execute<{ txid: string }>(
      sql`insert into applications values (${event.id}, txid_current()) returning txid::text`,
    );
    attempts.push({ id: event.id, txid: rows[0]!.txid });
    if (data.title === 'early') throw new RetryLater('not yet');
    if (data.title === 'poison') throw new UnprocessableEvent('never');
    if (data.title === 'bug') throw new Error('a bug');
  });
  const anUpdate = (title = 'x') => {
    const event = updated(randomUUID(), 0);
    return { ...event, data: { ...event.data, title } };
  };
  const committed = async (ids: string[]) =>
    (
      await database.pool.query<{ event_id: string; txid: string }>(
        'select event_id, txid::text from applications where event_id = any($1::uuid[])',
        [ids],
      )
    ).rows;
  const queue = (lanes = 1, listener: Listener<'ticket:updated'> = notingListener) =>
    new ListenerQueue(database, 'q', listener, silentLogger, { lanes, maxBatch: 16 });

  it('applies deliveries that arrive together in one transaction, and those that arrive meanwhile in the next, each once', async () => {
    const q = queue(1);
    const together = Array.from({ length: 5 }, () => anUpdate());
    const first = Promise.all([...together, together[3]!].map((event) => q.apply(event)));
    await new Promise((resolve) => setImmediate(resolve)); // the lane has started
    const meanwhile = Array.from({ length: 5 }, () => anUpdate());
    const second = Promise.all(meanwhile.map((event) => q.apply(event)));
    expect([...(await first), ...(await second)]).toEqual(Array(11).fill({ kind: 'ack' }));
    const rows = await committed([...together, ...meanwhile].map((e) => e.id));
    expect(rows).toHaveLength(10); // the one delivered twice, applied once
    const txOf = (events: Event[]) =>
      new Set(rows.filter((r) => events.some((e) => e.id === r.event_id)).map((r) => r.txid));
    expect(txOf(together).size).toBe(1);
    expect(txOf(meanwhile).size).toBe(1);
    expect([...txOf(together)][0]).not.toBe([...txOf(meanwhile)][0]);
  });

  it('has no effect for an event applied before, whatever the case of its id', async () => {
    const q = queue();
    const done = anUpdate();
    await q.apply(done);
    const shouted = { ...done, id: done.id.toUpperCase() };
    const events = [anUpdate(), done, anUpdate(), shouted];
    expect(await Promise.all(events.map((event) => q.apply(event)))).toEqual(Array(4).fill({ kind: 'ack' }));
    expect(await committed([done.id])).toHaveLength(1);
    const fresh = anUpdate();
    expect(await q.apply({ ...fresh, id: fresh.id.toUpperCase() })).toEqual({ kind: 'ack' });
    expect(await committed([fresh.id])).toHaveLength(1);
  });

  it('rolls back a batch that fails and gives each of its events the outcome it has alone', async () => {
    const q = queue();
    const events = ['x', 'x', 'early', 'poison', 'x', 'bug'].map(anUpdate);
    const [first, good1, early, poison, good2, bug] = events as [Event, Event, Event, Event, Event, Event];
    const settled = await Promise.allSettled(events.map((e) => q.apply(e)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value.kind : 'thrown'))).toEqual([
      'ack',
      'ack',
      'retry',
      'dead-letter',
      'ack',
      'thrown',
    ]);
    expect(settled[2]).toMatchObject({ value: { early: true, reason: 'not yet' } });
    expect(settled[5]).toMatchObject({ reason: { message: 'a bug' } });
    // The five behind the first ran together, up to the first failure, and then each alone.
    const batch = attemptsOf(good1.id)[0]!.txid;
    expect(attemptsOf(early.id)[0]!.txid).toBe(batch);
    expect(attemptsOf(good1.id)).toHaveLength(2);
    expect(attemptsOf(good2.id)).toHaveLength(1); // alone: the batch stopped at `early`
    // Only what committed is left: the good events, once each, and nothing of the others.
    const rows = await committed(events.map((e) => e.id));
    expect(rows.map((r) => r.event_id).sort()).toEqual([first.id, good1.id, good2.id].sort());
    expect(rows.some((r) => r.txid === batch)).toBe(false);
    const inbox = await database.pool.query('select event_id from inbox where event_id = any($1::uuid[])', [
      [early.id, poison.id, bug.id],
    ]);
    expect(inbox.rows).toEqual([]);
  });

  it('dead-letters an invalid body without holding up the valid ones', async () => {
    const q = queue();
    const [a, b] = [anUpdate(), anUpdate()];
    const outcomes = await Promise.all([q.apply(a), q.apply({ ...b, data: { id: 'x' } }), q.apply(b)]);
    expect(outcomes.map((o) => o.kind)).toEqual(['ack', 'dead-letter', 'ack']);
  });

  /** A listener whose handlers wait to be let go, counting how many run at once. */
  const gated = (batch?: boolean) => {
    let running = 0;
    let most = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const listener = defineListener(
      'ticket:updated',
      async () => {
        most = Math.max(most, ++running);
        await gate;
        running -= 1;
      },
      { batch },
    );
    return { listener, open: () => open(), most: () => most };
  };

  it('runs at most as many transactions at once as it has lanes', async () => {
    const { listener, open, most } = gated();
    const q = queue(2, listener);
    // Each in a turn of its own: deliveries that arrive together would share one lane.
    const applied: Promise<Outcome>[] = [];
    for (let i = 0; i < 6; i++) {
      applied.push(q.apply(anUpdate()));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const outcomes = Promise.all(applied);
    try {
      await waitFor(async () => most() === 2, 5_000, 5);
      await sleep(100); // room for a third, were there one
      expect(most()).toBe(2);
    } finally {
      open();
    }
    expect(await outcomes).toEqual(Array(6).fill({ kind: 'ack' }));
  });

  it('applies each delivery alone, as it comes, for a listener defined with batch: false', async () => {
    const { listener, open, most } = gated(false);
    const q = queue(1, listener);
    const outcomes = Promise.all(Array.from({ length: 4 }, () => q.apply(anUpdate())));
    try {
      await waitFor(async () => most() === 4, 5_000, 5);
    } finally {
      open();
    }
    expect(await outcomes).toEqual(Array(4).fill({ kind: 'ack' }));
  });

  it('runs each handler in the trace context of its own delivery', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const key = createContextKey('delivery');
      const seen = new Map<string, unknown>();
      const listener = defineListener('ticket:updated', async ({ event }) => {
        seen.set(event.id, context.active().getValue(key));
      });
      const q = queue(1, listener);
      const events = Array.from({ length: 5 }, () => anUpdate());
      await Promise.all(
        events.map((e) => context.with(context.active().setValue(key, e.id), () => q.apply(e))),
      );
      expect(events.map((e) => seen.get(e.id))).toEqual(events.map((e) => e.id));
    } finally {
      context.disable();
    }
  });

  it('refuses a batching without lanes or without room for an event', () => {
    expect(
      () => new ListenerQueue(database, 'q', notingListener, silentLogger, { lanes: 0, maxBatch: 4 }),
    ).toThrow(/at least one lane/);
    expect(
      () => new ListenerQueue(database, 'q', notingListener, silentLogger, { lanes: 2, maxBatch: 0 }),
    ).toThrow(/at least one lane/);
  });
});
