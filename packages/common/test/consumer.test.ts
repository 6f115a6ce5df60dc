import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InProcessBus } from '../src/messaging/in-process.ts';
import { ack, consume, MemoryDeadLetters, retry, retryEarly } from '../src/messaging/consumer.ts';
import { silentLogger, sleep, waitFor } from '../src/testing/index.ts';
import type { MessageHandler, SubscribeOptions, Transport } from '../src/messaging/transport.ts';

const policy = { maxDeliver: 3, baseDelayMs: 5, maxDelayMs: 10 };

describe('consumer policy', () => {
  it('does not hold an infrastructure outage against an event: retried past maxDeliver, then applied', async () => {
    const bus = new InProcessBus();
    const deadLetters = new MemoryDeadLetters();
    let calls = 0;
    const subscription = await consume(
      bus,
      { group: 'g', subject: 'ticket:created', deadLetters, logger: silentLogger, policy },
      async () => {
        calls += 1;
        if (calls <= 8)
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        return ack;
      },
    );
    await bus.publish('ticket:created', randomUUID(), {});
    expect(calls).toBe(9);
    expect(deadLetters.letters).toEqual([]);
    await subscription.close();
    await bus.close();
  });

  it('still dead-letters an event whose handler keeps failing, after maxDeliver attempts', async () => {
    const bus = new InProcessBus();
    const deadLetters = new MemoryDeadLetters();
    let calls = 0;
    const subscription = await consume(
      bus,
      { group: 'g', subject: 'ticket:created', deadLetters, logger: silentLogger, policy },
      async () => {
        calls += 1;
        throw new Error('handler bug');
      },
    );
    await bus.publish('ticket:created', randomUUID(), {});
    expect(calls).toBe(3);
    expect(deadLetters.letters[0]).toMatchObject({
      deliveryCount: 3,
      reason: 'gave up after 3 deliveries: handler bug',
    });
    await subscription.close();
    await bus.close();
  });

  it('dead-letters a message that is never answered (its handler hangs) after maxDeliver deliveries', async () => {
    const bus = new InProcessBus();
    const deadLetters = new MemoryDeadLetters();
    let calls = 0;
    const subscription = await consume(
      bus,
      {
        group: 'g',
        subject: 'ticket:created',
        deadLetters,
        logger: silentLogger,
        policy: { ...policy, ackWaitMs: 50 },
      },
      async () => {
        calls += 1;
        await sleep(10_000); // hangs past the ack wait every time
        return retry('never reached');
      },
    );
    const published = bus.publish('ticket:created', randomUUID(), {});
    await waitFor(() => deadLetters.letters.length === 1, 5_000);
    await published;
    expect(calls).toBe(3); // the 4th delivery is dead-lettered without running the handler again
    expect(deadLetters.letters[0]).toMatchObject({ deliveryCount: 4 });
    expect(deadLetters.letters[0]!.reason).toMatch(/not acknowledged after 3 deliveries/);
    void subscription.close();
    await bus.close();
  });

  it('lets an early event wait for its predecessor far past maxDeliver, on every replica of the group', async () => {
    const bus = new InProcessBus();
    const deadLetters = new MemoryDeadLetters(); // shared, as the service database is
    let calls = 0;
    const handler = async () => {
      calls += 1;
      return calls <= 12 ? retryEarly('version 3 arrived before version 2') : ack;
    };
    const options = {
      group: 'g',
      subject: 'ticket:updated' as const,
      deadLetters,
      logger: silentLogger,
      policy,
    };
    const replicas = await Promise.all([consume(bus, options, handler), consume(bus, options, handler)]);
    await bus.publish('ticket:updated', randomUUID(), {});
    await waitFor(() => calls === 13, 5_000);
    expect(deadLetters.letters).toEqual([]); // 12 deferrals: neither a failure nor a crash
    await Promise.all(replicas.map((r) => r.close()));
    await bus.close();
  });

  it('gives up on an early event once it has waited maxEarlyWaitMs, saying what it waited for', async () => {
    const bus = new InProcessBus();
    const deadLetters = new MemoryDeadLetters();
    let calls = 0;
    const subscription = await consume(
      bus,
      {
        group: 'g',
        subject: 'ticket:updated',
        deadLetters,
        logger: silentLogger,
        policy: { ...policy, maxEarlyWaitMs: 100, maxEarlyDeferrals: 5 },
      },
      async () => {
        calls += 1;
        return retryEarly('version 3 arrived before version 2');
      },
    );
    await bus.publish('ticket:updated', randomUUID(), {});
    await waitFor(() => deadLetters.letters.length === 1, 5_000);
    expect(calls).toBeGreaterThan(3); // well past maxDeliver
    expect(deadLetters.letters[0]!.reason).toMatch(
      /^gave up after \d+ deliveries waiting for an earlier event: version 3 arrived before version 2$/,
    );
    await subscription.close();
    await bus.close();
  });

  it('takes no outage for a crash, however its deliveries were spread over the replicas', async () => {
    const bus = new InProcessBus();
    const connectionError = () =>
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    // The service database, and the ledger in it, is down for the first 12 deliveries.
    let deliveries = 0;
    const down = () => deliveries <= 12;
    const counting: Transport = Object.assign(Object.create(bus) as InProcessBus, {
      subscribe: (options: SubscribeOptions, handler: MessageHandler) =>
        bus.subscribe(options, (message) => {
          deliveries = Math.max(deliveries, message.deliveryCount);
          return handler(message);
        }),
    });
    class LedgerInTheDatabase extends MemoryDeadLetters {
      override async beginRedelivery(consumer: string, eventId: string) {
        if (down()) throw connectionError();
        return super.beginRedelivery(consumer, eventId);
      }
    }
    const deadLetters = new LedgerInTheDatabase();
    let applied = 0;
    const options = {
      group: 'g',
      subject: 'ticket:created' as const,
      deadLetters,
      logger: silentLogger,
      policy: { ...policy, maxDelayMs: 1 },
    };
    const replicas = await Promise.all(
      [1, 2, 3].map(() =>
        consume(counting, options, async () => {
          if (down()) throw connectionError();
          applied += 1;
          return ack;
        }),
      ),
    );
    await bus.publish('ticket:created', randomUUID(), {});
    await waitFor(() => applied === 1, 5_000);
    expect(deliveries).toBeGreaterThan(12); // far past maxDeliver (3), over three replicas
    expect(deadLetters.letters).toEqual([]);
    await Promise.all(replicas.map((r) => r.close()));
    await bus.close();
  });

  it('notes handler outages in the shared ledger, so no replica takes them for crashes', async () => {
    const bus = new InProcessBus();
    const deadLetters = new MemoryDeadLetters(); // reachable: only the handler's pool is exhausted
    let calls = 0;
    let applied = 0;
    const options = {
      group: 'g',
      subject: 'ticket:created' as const,
      deadLetters,
      logger: silentLogger,
      policy: { ...policy, maxDelayMs: 1 },
    };
    const replicas = await Promise.all(
      [1, 2, 3].map(() =>
        consume(bus, options, async () => {
          calls += 1;
          if (calls <= 12)
            throw Object.assign(new Error('timeout exceeded when trying to connect'), { code: 'ETIMEDOUT' });
          applied += 1;
          return ack;
        }),
      ),
    );
    await bus.publish('ticket:created', randomUUID(), {});
    await waitFor(() => applied === 1, 5_000);
    expect(deadLetters.letters).toEqual([]);
    await Promise.all(replicas.map((r) => r.close()));
    await bus.close();
  });
});
