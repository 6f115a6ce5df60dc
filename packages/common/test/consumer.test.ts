import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InProcessBus } from '../src/messaging/in-process.ts';
import {
  ack,
  consume,
  deadLetter,
  decideOutcome,
  decideRedelivery,
  DEFAULT_RETRY_POLICY,
  MemoryDeadLetters,
  retry,
  retryEarly,
  type AttemptCounts,
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

describe('the consumer policy as a table', () => {
  const table: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    maxDeliver: 3,
    maxEarlyWaitMs: 60_000,
    maxEarlyDeferrals: 5,
    baseDelayMs: 10,
    maxDelayMs: 1_000,
  };
  const line = (counts: Partial<AttemptCounts>): AttemptCounts => ({
    started: 0,
    failures: 0,
    deferrals: 0,
    outages: 0,
    waitedMs: 0,
    ...counts,
  });
  const outage: Outcome = { kind: 'retry', reason: 'ECONNREFUSED', transient: true };

  it.each([
    ['a handler that answered', ack, undefined, { kind: 'ack' }],
    ['a poison event', deadLetter('bad body'), undefined, { kind: 'dead-letter', reason: 'bad body' }],
    ['an outage, on any delivery', outage, undefined, { kind: 'outage' }],
    ['an outage, however much the event has cost', outage, line({ failures: 9 }), { kind: 'outage' }],
    ['a failure, before it is counted', retry('boom'), undefined, { kind: 'count', answer: 'failure' }],
    ['the first failure', retry('boom'), line({ failures: 1 }), { kind: 'retry', delayMs: 10 }],
    ['the second failure', retry('boom'), line({ failures: 2 }), { kind: 'retry', delayMs: 20 }],
    [
      'the failure that spends the budget',
      retry('boom'),
      line({ failures: 3 }),
      { kind: 'dead-letter', reason: 'gave up after 3 deliveries: boom' },
    ],
    [
      'an early event, before it is counted',
      retryEarly('v2 first'),
      undefined,
      { kind: 'count', answer: 'deferral' },
    ],
    [
      'an early event, far past maxDeliver',
      retryEarly('v2 first'),
      line({ deferrals: 7, waitedMs: 5_000 }),
      { kind: 'retry', delayMs: 640 },
    ],
    [
      'an early event, backoff capped',
      retryEarly('v2 first'),
      line({ deferrals: 20, waitedMs: 50_000 }),
      { kind: 'retry', delayMs: 1_000 },
    ],
    [
      'an early event that waited long, not deferred often',
      retryEarly('v2 first'),
      line({ deferrals: 4, waitedMs: 70_000 }),
      { kind: 'retry', delayMs: 80 },
    ],
    [
      'an early event deferred often, not for long',
      retryEarly('v2 first'),
      line({ deferrals: 9, waitedMs: 59_999 }),
      { kind: 'retry', delayMs: 1_000 },
    ],
    [
      'an early event that waited long and often',
      retryEarly('v2 first'),
      line({ deferrals: 5, waitedMs: 60_000 }),
      { kind: 'dead-letter', reason: 'gave up after 5 deliveries waiting for an earlier event: v2 first' },
    ],
  ] as const)('after the handler: %s', (_case, outcome, counts, decision) => {
    expect(decideOutcome(table, outcome, counts)).toEqual(decision);
  });

  const crashed = {
    kind: 'dead-letter',
    reason: 'not acknowledged after 3 deliveries (handler crashed or exceeded the ack wait)',
  };
  it.each([
    ['a first redelivery', line({ started: 1 }), 0, { kind: 'run' }],
    [
      'redeliveries that were all answered',
      line({ started: 9, failures: 2, deferrals: 4, outages: 3 }),
      0,
      { kind: 'run' },
    ],
    ['two deliveries never answered', line({ started: 2 }), 0, { kind: 'run' }],
    ['three deliveries never answered', line({ started: 3 }), 0, crashed],
    ['three unanswered among answered ones', line({ started: 6, failures: 1, outages: 2 }), 0, crashed],
    ['outages this process could not note are not crashes', line({ started: 3 }), 1, { kind: 'run' }],
  ] as const)('before a redelivery: %s', (_case, counts, unnoted, decision) => {
    expect(decideRedelivery(table, counts, unnoted)).toEqual(decision);
  });
});

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
