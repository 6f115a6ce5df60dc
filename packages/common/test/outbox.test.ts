import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { migrateDatabase, type Executor } from '../src/db/database.ts';
import { InProcessBus } from '../src/messaging/in-process.ts';
import { OutboxRelay } from '../src/messaging/outbox-relay.ts';
import { prepareWriteAndPublish, publishEvent, writeAndPublish } from '../src/messaging/outbox.ts';
import type { DeliveredMessage, Transport } from '../src/messaging/transport.ts';
import { createTestDatabase, silentLogger, sleep, waitFor } from '../src/testing/index.ts';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

/** A bus whose broker can be "down": publishes fail while it is. */
class FlakyTransport extends InProcessBus {
  down = false;
  override publish(subject: string, id: string, body: unknown): Promise<void> {
    if (this.down) return Promise.reject(new Error('broker unreachable'));
    return super.publish(subject, id, body);
  }
}

const ticket = (id: string, version: number) => ({
  id,
  version,
  title: `t${version}`,
  price: 1000 + version,
  faceValue: 1000,
  userId: randomUUID(),
  listed: true,
  timesSold: 0,
});

function record(transport: Transport) {
  const received: { type: string; id: string; version: number }[] = [];
  const ready = Promise.all(
    (['ticket:created', 'ticket:updated'] as const).map((subject) =>
      transport.subscribe(
        { group: 'observer', subject, ackWaitMs: 5_000, maxDeliver: 5, concurrency: 1 },
        async (m: DeliveredMessage) => {
          const body = m.body as { data: { id: string; version: number } };
          received.push({ type: m.subject, id: body.data.id, version: body.data.version });
          await m.ack();
        },
      ),
    ),
  );
  return { received, ready };
}

describe('transactional outbox', () => {
  let database: TestDatabase;
  const relays: OutboxRelay[] = [];
  const start = (
    transport: Transport,
    options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {},
  ) => {
    const relay = new OutboxRelay({ database, transport, logger: silentLogger, ...options });
    relays.push(relay);
    relay.start();
    return relay;
  };

  /** A relay that leads and polls once a minute, and what reaches the bus: an event seen soon was woken for. */
  const leaderPollingRarely = async () => {
    const bus = new InProcessBus();
    const { received, ready } = record(bus);
    await ready;
    start(bus, { pollIntervalMs: 60_000 });
    await sleep(100); // leadership acquired
    return received;
  };

  beforeEach(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database);
  });
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
    await database.drop();
  });

  it('publishes a committed event promptly, woken by NOTIFY rather than polling', async () => {
    const received = await leaderPollingRarely();
    const id = randomUUID();
    const committedAt = Date.now();
    await database.db.transaction(async (tx) => {
      await publishEvent(tx, 'ticket:created', ticket(id, 0));
    });
    await waitFor(() => received.length === 1, 2_000, 2);
    expect(Date.now() - committedAt).toBeLessThan(500);
    expect(received[0]).toEqual({ type: 'ticket:created', id, version: 0 });
  });

  it('prepareWriteAndPublish: one prepared statement queues the event only if its write changed a row, published promptly', async () => {
    const received = await leaderPollingRarely();
    await database.pool.query('create table things (id uuid primary key)');
    const insertThing = prepareWriteAndPublish<'ticket:created', { id: string }, { id: string }>(
      'test_insert_thing',
      'ticket:created',
      sql`insert into things (id) values (${sql.placeholder('id')}) on conflict do nothing returning id`,
    );
    // The same statement under its name again is the same statement; another one is refused at once.
    const sameAgain = () =>
      prepareWriteAndPublish(
        'test_insert_thing',
        'ticket:created',
        sql`insert into things (id) values (${sql.placeholder('id')}) on conflict do nothing returning id`,
      );
    expect(sameAgain).not.toThrow();
    expect(() =>
      prepareWriteAndPublish(
        'test_insert_thing',
        'ticket:created',
        sql`insert into things (id) values (${sql.placeholder('id')}) returning id`,
      ),
    ).toThrow(/already another statement/);
    const [first, second] = [randomUUID(), randomUUID()];
    const committedAt = Date.now();
    expect(await insertThing(database, { id: first }, ticket(first, 0))).toEqual([{ id: first }]);
    await waitFor(() => received.length === 1, 2_000, 2);
    expect(Date.now() - committedAt).toBeLessThan(500); // woken after the statement, not polled
    expect(received[0]).toEqual({ type: 'ticket:created', id: first, version: 0 });

    // The same insert again changes nothing: no event.
    expect(await insertThing(database, { id: first }, ticket(first, 1))).toEqual([]);
    // The statement again, with other values, on one connection so that it can be found there
    // afterwards; no relay of this process watches that pool, so a NOTIFY wakes the relay.
    const onePool = new pg.Pool({ connectionString: database.url, max: 1 });
    try {
      expect(await insertThing({ pool: onePool }, { id: second }, ticket(second, 0))).toEqual([
        { id: second },
      ]);
      // Postgres holds it as a named statement of the connection that ran it.
      const prepared = await onePool.query('select statement from pg_prepared_statements where name = $1', [
        'test_insert_thing',
      ]);
      expect(prepared.rows[0]?.statement).toMatch(/insert into things .*insert into outbox/s);
    } finally {
      await onePool.end();
    }
    await waitFor(() => received.length === 2, 2_000, 2);
    await sleep(200);
    expect(received.map((r) => r.id)).toEqual([first, second]);
    const { rows } = await database.pool.query('select entity_id, envelope from outbox order by seq');
    expect(rows.map((r) => [r.entity_id, r.envelope.type, r.envelope.data.id])).toEqual([
      [first, 'ticket:created', first],
      [second, 'ticket:created', second],
    ]);
  });

  it("writeAndPublish: queues the event in the write's own statement, only if it wrote a row, and publishes it once the unit of work (or the statement alone) commits", async () => {
    const received = await leaderPollingRarely();
    await database.pool.query('create table things (id uuid primary key, n int not null)');
    const [thing, missing] = [randomUUID(), randomUUID()];
    await database.pool.query('insert into things values ($1, 0)', [thing]);
    const bump = (tx: Executor, id: string, version: number) =>
      writeAndPublish(
        tx,
        sql`update things set n = n + 1 where id = ${id} returning id`,
        'ticket:updated',
        ticket(id, version),
      );
    const written = await database.db.transaction(async (tx) => [
      await bump(tx, thing, 1),
      await bump(tx, missing, 1),
    ]);
    expect(written).toEqual([1, 0]);
    // Woken by the unit of work's commit, not by the relay's poll (once a minute here).
    await waitFor(() => received.length === 1, 2_000, 2);
    expect(received).toEqual([{ type: 'ticket:updated', id: thing, version: 1 }]);
    // Rolled back: neither the write nor its event.
    await expect(
      database.db.transaction(async (tx) => {
        await bump(tx, thing, 2);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await database.pool.query('select n from things where id = $1', [thing])).rows[0].n).toBe(1);
    expect((await database.pool.query('select count(*)::int as n from outbox')).rows[0].n).toBe(1);
    // On the database handle, a statement of its own: it commits by itself and wakes the relay.
    expect(await bump(database.db, thing, 2)).toBe(1);
    expect(await bump(database.db, missing, 2)).toBe(0);
    await waitFor(() => received.length === 2, 2_000, 2);
    expect(received[1]).toEqual({ type: 'ticket:updated', id: thing, version: 2 });
    expect((await database.pool.query('select count(*)::int as n from outbox')).rows[0].n).toBe(2);
  });

  it('publishes nothing for a transaction that rolls back', async () => {
    const bus = new InProcessBus();
    const { received, ready } = record(bus);
    await ready;
    start(bus, { pollIntervalMs: 50 });
    await database.db
      .transaction(async (tx) => {
        await publishEvent(tx, 'ticket:created', ticket(randomUUID(), 0));
        throw new Error('rollback');
      })
      .catch(() => {});
    await sleep(300);
    expect(received).toEqual([]);
    expect((await database.pool.query('select count(*)::int as n from outbox')).rows[0].n).toBe(0);
  });

  it('loses nothing when the process dies between commit and publish: the next relay sends it', async () => {
    const dead = new FlakyTransport();
    dead.down = true; // the first process never gets to publish
    const first = start(dead, { pollIntervalMs: 50 });
    const ids = Array.from({ length: 10 }, () => randomUUID());
    for (const id of ids) await publishEvent(database.db, 'ticket:created', ticket(id, 0));
    await sleep(200);
    await first.stop(); // "killed"
    expect(await first.backlog()).toBe(10);

    const bus = new InProcessBus();
    const { received, ready } = record(bus);
    await ready;
    const second = start(bus, { pollIntervalMs: 50 });
    await second.drain();
    expect(new Set(received.map((r) => r.id))).toEqual(new Set(ids));
  });

  it('loses and reorders nothing while the broker is unreachable for a while', async () => {
    const bus = new FlakyTransport();
    const { received, ready } = record(bus);
    await ready;
    const relay = start(bus, { pollIntervalMs: 50 });
    const entities = Array.from({ length: 5 }, () => randomUUID());
    bus.down = true;
    for (let version = 0; version < 10; version++) {
      for (const id of entities) {
        await database.db.transaction(async (tx) => {
          await publishEvent(tx, version === 0 ? 'ticket:created' : 'ticket:updated', ticket(id, version));
        });
      }
      if (version === 4) await sleep(300); // some attempts fail in the meantime
    }
    await sleep(300);
    expect(received).toEqual([]);
    bus.down = false;
    await relay.drain();
    expect(received).toHaveLength(50);
    for (const id of entities) {
      expect(received.filter((r) => r.id === id).map((r) => r.version)).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
      ]);
    }
  });

  it('hands events to the transport in commit order, without waiting for one to be accepted before the next', async () => {
    const handed: { id: string; version: number }[] = [];
    let publishing = 0;
    let mostAtOnce = 0;
    class SlowBus extends InProcessBus {
      override async publish(subject: string, id: string, body: unknown) {
        const { data } = body as { data: { id: string; version: number } };
        handed.push({ id: data.id, version: data.version });
        mostAtOnce = Math.max(mostAtOnce, ++publishing);
        await sleep(Math.random() * 10);
        publishing -= 1;
        return super.publish(subject, id, body);
      }
    }
    const bus = new SlowBus();
    const { received, ready } = record(bus);
    await ready;
    const relay = start(bus, { pollIntervalMs: 50 });
    const entities = Array.from({ length: 20 }, () => randomUUID());
    await Promise.all(
      entities.map(async (id) => {
        for (let version = 0; version < 5; version++) {
          await publishEvent(
            database.db,
            version === 0 ? 'ticket:created' : 'ticket:updated',
            ticket(id, version),
          );
        }
      }),
    );
    await relay.drain();
    expect(received).toHaveLength(100);
    for (const id of entities) {
      expect(handed.filter((r) => r.id === id).map((r) => r.version)).toEqual([0, 1, 2, 3, 4]);
    }
    // Ordering is the consumers' (each applies version n on top of n-1): the relay does not
    // serialise an entity's publishes, and so has many in flight at once.
    expect(mostAtOnce).toBeGreaterThan(1);
  });

  it('runs one relay per database at a time; a standby takes over when the leader stops', async () => {
    const bus = new InProcessBus();
    const { received, ready } = record(bus);
    await ready;
    const leader = start(bus, { pollIntervalMs: 50 });
    await sleep(100);
    const standby = start(bus, { pollIntervalMs: 50 });
    await publishEvent(database.db, 'ticket:created', ticket(randomUUID(), 0));
    await leader.drain();
    await leader.stop();
    await publishEvent(database.db, 'ticket:created', ticket(randomUUID(), 0));
    await waitFor(() => received.length === 2, 5_000);
    await standby.drain();
    const sent = await database.db.execute<{ n: number }>(
      sql`select count(*)::int as n from outbox where sent_at is not null`,
    );
    expect(sent.rows[0]!.n).toBe(2);
  });
});
