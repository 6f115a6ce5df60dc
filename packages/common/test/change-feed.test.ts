import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { migrateDatabase, openDatabase, type ServiceDatabase } from '../src/db/database.ts';
import { announceChanges, CHANGES_CHANNEL, type Changes } from '../src/db/change-feed.ts';
import { InProcessBus } from '../src/messaging/in-process.ts';
import { OutboxRelay } from '../src/messaging/outbox-relay.ts';
import { publishEvent } from '../src/messaging/outbox.ts';
import { createTestDatabase, silentLogger, waitFor } from '../src/testing/index.ts';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

const ticket = (id: string) => ({
  id,
  version: 1,
  title: 't',
  price: 1000,
  faceValue: 1000,
  userId: randomUUID(),
  listed: true,
  timesSold: 0,
});

function record(database: ServiceDatabase): Changes[] {
  const heard: Changes[] = [];
  database.changes.subscribe((changes) => heard.push(changes));
  return heard;
}

/** A broker that takes every event (no consumers here: the feed is under test, not delivery). */
class AcceptingBus extends InProcessBus {
  override publish(): Promise<void> {
    return Promise.resolve();
  }
}

const heardOf = (heard: Changes[], id: string) => heard.some((c) => c !== 'all' && c.includes(id));

describe('the change feed', () => {
  let database: TestDatabase;
  let other: ServiceDatabase; // a second replica: its own pool and feed on the same database
  let relay: OutboxRelay | undefined;

  beforeEach(async () => {
    database = await createTestDatabase('feed');
    await migrateDatabase(database);
    other = openDatabase(database.url, { max: 2, logger: silentLogger });
  });

  afterEach(async () => {
    await relay?.stop();
    relay = undefined;
    await other.close();
    await database.drop();
  });

  it("reports this process's commit before the transaction's promise resolves, and nothing before", async () => {
    const heard = record(database);
    await waitFor(() => database.changes.live);
    heard.length = 0; // the 'all' of connecting
    const id = randomUUID();
    await database.db.transaction(async (tx) => {
      await publishEvent(tx, 'ticket:created', ticket(id));
      expect(heardOf(heard, id)).toBe(false); // not committed yet
    });
    expect(heard).toEqual([[id]]);
  });

  it("hears another replica's commits through the relay's announcement", async () => {
    relay = new OutboxRelay({ database, transport: new AcceptingBus(), logger: silentLogger });
    relay.start();
    const heard = record(other);
    await waitFor(() => other.changes.live);
    const ids = [randomUUID(), randomUUID()];
    await database.db.transaction(async (tx) => {
      for (const id of ids) await publishEvent(tx, 'ticket:created', ticket(id));
    });
    await waitFor(() => ids.every((id) => heardOf(heard, id)), 5_000, 2);
  });

  it("is live only while it listens, and says 'all' when it listens again", async () => {
    const heard = record(other);
    await waitFor(() => other.changes.live);
    expect(heard).toEqual(['all']);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and query = 'listen ${CHANGES_CHANNEL}'`,
      );
    } finally {
      await admin.end();
    }
    await waitFor(() => !other.changes.live, 5_000, 5);
    await waitFor(() => other.changes.live, 5_000);
    expect(heard).toEqual(['all', 'all']);
  });

  it('carries many ids in as few notifications as fit, and odd ids as everything', async () => {
    const heard = record(other);
    await waitFor(() => other.changes.live);
    heard.length = 0;
    const ids = Array.from({ length: 500 }, () => randomUUID());
    await announceChanges(database.pool, [...ids, ...ids]);
    await waitFor(() => ids.every((id) => heardOf(heard, id)), 5_000, 5);
    expect(heard.length).toBe(3); // 500 × 37 bytes in payloads under 8,000 bytes
    heard.length = 0;
    await announceChanges(database.pool, ['a,b']);
    await waitFor(() => heard.length > 0, 5_000, 5);
    expect(heard).toEqual(['all']);
  });
});
