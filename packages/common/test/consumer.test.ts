import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InProcessBus } from '../src/messaging/in-process.ts';
import { ack, consume, MemoryDeadLetters, retry, retryEarly } from '../src/messaging/consumer.ts';
import { silentLogger, sleep, waitFor } from '../src/testing/index.ts';

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

  it('gives up on an early event after maxEarlyDeliveries, saying what it waited for', async () => {
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
        policy: { ...policy, maxEarlyDeliveries: 6 },
      },
      async () => {
        calls += 1;
        return retryEarly('version 3 arrived before version 2');
      },
    );
    await bus.publish('ticket:updated', randomUUID(), {});
    await waitFor(() => deadLetters.letters.length === 1, 5_000);
    expect(calls).toBe(6);
    expect(deadLetters.letters[0]!.reason).toBe(
      'gave up after 6 deliveries waiting for an earlier event: version 3 arrived before version 2',
    );
    await subscription.close();
    await bus.close();
  });
});
