import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InProcessBus } from '../src/messaging/in-process.ts';
import {
  ack,
  consume,
  MemoryDeadLetters,
  retry,
  retryEarly,
  type Outcome,
  type RetryPolicy,
} from '../src/messaging/consumer.ts';
import { silentLogger, sleep, waitFor } from '../src/testing/index.ts';
import type {
  DeliveredMessage,
  MessageHandler,
  SubscribeOptions,
  Transport,
} from '../src/messaging/transport.ts';

const policy = { maxDeliver: 3, baseDelayMs: 5, maxDelayMs: 10 };

const connectionError = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/**
 * `replicas` consumers of `subject` in group `g` on a fresh in-process bus, sharing one store, as
 * the replicas of a service share its database. `transport` may wrap the bus.
 */
async function startConsumers(
  subject: string,
  handler: (message: DeliveredMessage) => Promise<Outcome>,
  options: {
    replicas?: number;
    policy?: Partial<RetryPolicy>;
    deadLetters?: MemoryDeadLetters;
    transport?: (bus: InProcessBus) => Transport;
  } = {},
) {
  const bus = new InProcessBus();
  const deadLetters = options.deadLetters ?? new MemoryDeadLetters();
  const transport = options.transport?.(bus) ?? bus;
  const consumeOptions = {
    group: 'g',
    subject,
    deadLetters,
    logger: silentLogger,
    policy: { ...policy, ...options.policy },
  };
  const subscriptions = await Promise.all(
    Array.from({ length: options.replicas ?? 1 }, () => consume(transport, consumeOptions, handler)),
  );
  const closeSubscriptions = () => Promise.all(subscriptions.map((s) => s.close()));
  return {
    bus,
    deadLetters,
    closeSubscriptions,
    async close() {
      await closeSubscriptions();
      await bus.close();
    },
  };
}

describe('consumer policy', () => {
  it('does not hold an infrastructure outage against an event: retried past maxDeliver, then applied', async () => {
    let calls = 0;
    const consumer = await startConsumers('ticket:created', async () => {
      calls += 1;
      if (calls <= 8) throw connectionError();
      return ack;
    });
    await consumer.bus.publish('ticket:created', randomUUID(), {});
    expect(calls).toBe(9);
    expect(consumer.deadLetters.letters).toEqual([]);
    await consumer.close();
  });

  it('still dead-letters an event whose handler keeps failing, after maxDeliver attempts', async () => {
    let calls = 0;
    const consumer = await startConsumers('ticket:created', async () => {
      calls += 1;
      throw new Error('handler bug');
    });
    await consumer.bus.publish('ticket:created', randomUUID(), {});
    expect(calls).toBe(3);
    expect(consumer.deadLetters.letters[0]).toMatchObject({
      deliveryCount: 3,
      reason: 'gave up after 3 deliveries: handler bug',
    });
    await consumer.close();
  });

  it('dead-letters a message that is never answered (its handler hangs) after maxDeliver deliveries', async () => {
    let calls = 0;
    const consumer = await startConsumers(
      'ticket:created',
      async () => {
        calls += 1;
        await sleep(10_000); // hangs past the ack wait every time
        return retry('never reached');
      },
      { policy: { ackWaitMs: 50 } },
    );
    const { deadLetters } = consumer;
    const published = consumer.bus.publish('ticket:created', randomUUID(), {});
    await waitFor(() => deadLetters.letters.length === 1, 5_000);
    await published;
    expect(calls).toBe(3); // the 4th delivery is dead-lettered without running the handler again
    expect(deadLetters.letters[0]).toMatchObject({ deliveryCount: 4 });
    expect(deadLetters.letters[0]!.reason).toMatch(/not acknowledged after 3 deliveries/);
    void consumer.closeSubscriptions(); // they wait for the hanging handlers
    await consumer.bus.close();
  });

  it('lets an early event wait for its predecessor far past maxDeliver, on every replica of the group', async () => {
    let calls = 0;
    const consumer = await startConsumers(
      'ticket:updated',
      async () => {
        calls += 1;
        return calls <= 12 ? retryEarly('version 3 arrived before version 2') : ack;
      },
      { replicas: 2 },
    );
    await consumer.bus.publish('ticket:updated', randomUUID(), {});
    await waitFor(() => calls === 13, 5_000);
    expect(consumer.deadLetters.letters).toEqual([]); // 12 deferrals: neither a failure nor a crash
    await consumer.close();
  });

  it('gives up on an early event once it has waited maxEarlyWaitMs, saying what it waited for', async () => {
    let calls = 0;
    const consumer = await startConsumers(
      'ticket:updated',
      async () => {
        calls += 1;
        return retryEarly('version 3 arrived before version 2');
      },
      { policy: { maxEarlyWaitMs: 100, maxEarlyDeferrals: 5 } },
    );
    const { deadLetters } = consumer;
    await consumer.bus.publish('ticket:updated', randomUUID(), {});
    await waitFor(() => deadLetters.letters.length === 1, 5_000);
    expect(calls).toBeGreaterThan(3); // well past maxDeliver
    expect(deadLetters.letters[0]!.reason).toMatch(
      /^gave up after \d+ deliveries waiting for an earlier event: version 3 arrived before version 2$/,
    );
    await consumer.close();
  });

  it('takes no outage for a crash, however its deliveries were spread over the replicas', async () => {
    // The service database, and the ledger in it, is down for the first 12 deliveries.
    let deliveries = 0;
    const down = () => deliveries <= 12;
    const counting = (bus: InProcessBus): Transport =>
      Object.assign(Object.create(bus) as InProcessBus, {
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
    let applied = 0;
    const consumer = await startConsumers(
      'ticket:created',
      async () => {
        if (down()) throw connectionError();
        applied += 1;
        return ack;
      },
      { replicas: 3, policy: { maxDelayMs: 1 }, deadLetters: new LedgerInTheDatabase(), transport: counting },
    );
    await consumer.bus.publish('ticket:created', randomUUID(), {});
    await waitFor(() => applied === 1, 5_000);
    expect(deliveries).toBeGreaterThan(12); // far past maxDeliver (3), over three replicas
    expect(consumer.deadLetters.letters).toEqual([]);
    await consumer.close();
  });

  it('notes handler outages in the shared ledger, so no replica takes them for crashes', async () => {
    let calls = 0;
    let applied = 0;
    // The ledger is reachable: only the handler's pool is exhausted.
    const consumer = await startConsumers(
      'ticket:created',
      async () => {
        calls += 1;
        if (calls <= 12)
          throw Object.assign(new Error('timeout exceeded when trying to connect'), { code: 'ETIMEDOUT' });
        applied += 1;
        return ack;
      },
      { replicas: 3, policy: { maxDelayMs: 1 } },
    );
    await consumer.bus.publish('ticket:created', randomUUID(), {});
    await waitFor(() => applied === 1, 5_000);
    expect(consumer.deadLetters.letters).toEqual([]);
    await consumer.close();
  });
});
