/**
 * The transport contract: one suite, run against every Transport implementation (the idea of
 * Watermill's universal pub/sub tests). A transport that passes can carry the marketplace.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  DeliveredMessage,
  SubscribeOptions,
  Subscription,
  Transport,
} from '../src/messaging/transport.ts';
import { consume, MemoryDeadLetters, retry, ack } from '../src/messaging/consumer.ts';
import { silentLogger, sleep, waitFor } from '../src/testing/index.ts';

export interface TransportFixture {
  transport: Transport;
  /** A second connection to the same broker and streams (another process's view). */
  connectAgain(): Promise<Transport>;
  cleanup(): Promise<void>;
}

const defaults = (over: Partial<SubscribeOptions> = {}): SubscribeOptions => ({
  group: 'g1',
  subject: 'ticket:created',
  ackWaitMs: 5_000,
  maxDeliver: 20,
  concurrency: 4,
  ...over,
});

/** Publishes n events without awaiting them one by one (the in-process bus resolves on handling). */
function publishMany(transport: Transport, n: number, subject = 'ticket:created') {
  const ids = Array.from({ length: n }, () => randomUUID());
  const done = ids.map((id, i) => transport.publish(subject, id, { id, n: i }));
  return { ids, done: Promise.all(done) };
}

function collector() {
  const seen: DeliveredMessage[] = [];
  const handler = async (message: DeliveredMessage) => {
    seen.push(message);
    await message.ack();
  };
  return { seen, handler, ids: () => seen.map((m) => m.id) };
}

export function describeTransportContract(name: string, makeFixture: () => Promise<TransportFixture>): void {
  describe(`transport contract: ${name}`, () => {
    let fixture: TransportFixture;
    const subscriptions: Subscription[] = [];
    const extra: Transport[] = [];
    const setup = async () => {
      fixture = await makeFixture();
      return fixture.transport;
    };
    const subscribe = async (
      transport: Transport,
      options: SubscribeOptions,
      handler: (m: DeliveredMessage) => Promise<void>,
    ) => {
      const subscription = await transport.subscribe(options, handler);
      subscriptions.push(subscription);
      return subscription;
    };

    afterEach(async () => {
      for (const s of subscriptions.splice(0)) await s.close();
      for (const t of extra.splice(0)) await t.close();
      await fixture?.cleanup();
    });

    it('delivers every published event', async () => {
      const transport = await setup();
      const c = collector();
      await subscribe(transport, defaults(), c.handler);
      const { ids, done } = publishMany(transport, 50);
      await done;
      await waitFor(() => c.seen.length >= 50);
      expect(new Set(c.ids())).toEqual(new Set(ids));
    });

    it('delivers everything to each of two groups', async () => {
      const transport = await setup();
      const a = collector();
      const b = collector();
      await subscribe(transport, defaults({ group: 'ga' }), a.handler);
      await subscribe(transport, defaults({ group: 'gb' }), b.handler);
      const { ids, done } = publishMany(transport, 30);
      await done;
      await waitFor(() => a.seen.length >= 30 && b.seen.length >= 30);
      expect(new Set(a.ids())).toEqual(new Set(ids));
      expect(new Set(b.ids())).toEqual(new Set(ids));
    });

    it('shares the work of one group between its consumers, each event handled once', async () => {
      const transport = await setup();
      const other = await fixture.connectAgain();
      extra.push(other);
      const handledBy = new Map<string, string[]>();
      const worker = (label: string) => async (m: DeliveredMessage) => {
        handledBy.set(m.id, [...(handledBy.get(m.id) ?? []), label]);
        await sleep(5);
        await m.ack();
      };
      await subscribe(transport, defaults({ concurrency: 1 }), worker('one'));
      await subscribe(other, defaults({ concurrency: 1 }), worker('two'));
      const { ids, done } = publishMany(transport, 60);
      await done;
      await waitFor(() => handledBy.size >= 60);
      await sleep(100);
      const labels = [...handledBy.values()];
      expect(labels.every((l) => l.length === 1)).toBe(true);
      expect(new Set(handledBy.keys())).toEqual(new Set(ids));
      expect(labels.filter((l) => l[0] === 'one').length).toBeGreaterThan(0);
      expect(labels.filter((l) => l[0] === 'two').length).toBeGreaterThan(0);
    });

    it('redelivers a naked event, no sooner than the nak delay', async () => {
      const transport = await setup();
      const deliveries: { count: number; at: number }[] = [];
      await subscribe(transport, defaults(), async (m) => {
        deliveries.push({ count: m.deliveryCount, at: Date.now() });
        if (m.deliveryCount === 1) await m.nak();
        else if (m.deliveryCount === 2) await m.nak(400);
        else await m.ack();
      });
      await publishMany(transport, 1).done;
      await waitFor(() => deliveries.length >= 3);
      expect(deliveries.map((d) => d.count)).toEqual([1, 2, 3]);
      expect(deliveries[2]!.at - deliveries[1]!.at).toBeGreaterThanOrEqual(390);
    });

    it('redelivers an unacknowledged event after the ack deadline', async () => {
      const transport = await setup();
      const deliveries: number[] = [];
      await subscribe(transport, defaults({ ackWaitMs: 500 }), async (m) => {
        deliveries.push(Date.now());
        if (m.deliveryCount > 1) await m.ack(); // the first delivery is "lost": never answered
      });
      const started = Date.now();
      await publishMany(transport, 1).done;
      await waitFor(() => deliveries.length >= 2);
      expect(deliveries[1]! - started).toBeGreaterThanOrEqual(450);
    });

    it('dead-letters an event after max deliveries, with its reason, while the rest keep flowing', async () => {
      const transport = await setup();
      const deadLetters = new MemoryDeadLetters();
      const poison = randomUUID();
      const handled: string[] = [];
      subscriptions.push(
        await consume(
          transport,
          {
            group: 'g1',
            subject: 'ticket:created',
            deadLetters,
            logger: silentLogger,
            policy: { maxDeliver: 3, baseDelayMs: 20, maxDelayMs: 50 },
          },
          async (m) => {
            if (m.id === poison) return retry('cannot apply this one');
            handled.push(m.id);
            return ack;
          },
        ),
      );
      const bad = transport.publish('ticket:created', poison, { poison: true });
      const { ids, done } = publishMany(transport, 20);
      await Promise.all([bad, done]);
      await waitFor(() => deadLetters.letters.length === 1 && handled.length === 20);
      expect(new Set(handled)).toEqual(new Set(ids));
      expect(deadLetters.letters[0]).toMatchObject({
        eventId: poison,
        consumer: 'g1',
        deliveryCount: 3,
        body: { poison: true },
      });
      expect(deadLetters.letters[0]!.reason).toContain('cannot apply this one');
    });

    it('delivers events published while a consumer was down once it starts', async () => {
      const transport = await setup();
      const c = collector();
      const first = await transport.subscribe(defaults(), c.handler);
      await publishMany(transport, 5).done;
      await waitFor(() => c.seen.length >= 5);
      await first.close();
      const later = publishMany(transport, 7);
      await sleep(100);
      expect(c.seen.length).toBe(5);
      await subscribe(transport, defaults(), c.handler);
      await later.done;
      await waitFor(() => c.seen.length >= 12);
      expect(new Set(c.ids().slice(5))).toEqual(new Set(later.ids));
    });

    it('delivers events published before the first consumer of a group subscribed', async () => {
      const transport = await setup();
      const c = collector();
      const early = publishMany(transport, 5);
      if (transport.kind === 'jetstream') await early.done; // stored before anyone listens
      await subscribe(transport, defaults({ group: 'late' }), c.handler);
      await early.done;
      await waitFor(() => c.seen.length >= 5);
      expect(new Set(c.ids())).toEqual(new Set(early.ids));
    });

    it('keeps the order of one subject for a single consumer', async () => {
      const transport = await setup();
      const c = collector();
      await subscribe(transport, defaults({ concurrency: 1 }), c.handler);
      const { ids, done } = publishMany(transport, 100);
      await done;
      await waitFor(() => c.seen.length >= 100);
      expect(c.ids()).toEqual(ids);
    });

    it('does not deliver twice an event re-published with the same id', async () => {
      const transport = await setup();
      const c = collector();
      await subscribe(transport, defaults(), c.handler);
      const id = randomUUID();
      await Promise.all([
        transport.publish('ticket:created', id, { id }),
        transport.publish('ticket:created', id, { id }),
      ]);
      await transport.publish('ticket:created', id, { id });
      await publishMany(transport, 1).done; // a later event, to know the earlier ones went through
      await waitFor(() => c.seen.length >= 2);
      await sleep(200);
      expect(c.ids().filter((x) => x === id)).toHaveLength(1);
    });

    it('loses no event when a consumer closes with events in flight', async () => {
      const transport = await setup();
      const acked = new Set<string>();
      const slow = async (m: DeliveredMessage) => {
        await sleep(50);
        await m.ack();
        acked.add(m.id);
      };
      const first = await transport.subscribe(defaults({ concurrency: 4 }), slow);
      const { ids, done } = publishMany(transport, 20);
      await waitFor(() => acked.size >= 2);
      await first.close(); // waits for the in-flight handlers, which ack
      const afterClose = acked.size;
      expect(afterClose).toBeGreaterThanOrEqual(2);
      await subscribe(transport, defaults({ concurrency: 4 }), slow);
      await done;
      await waitFor(() => acked.size >= 20);
      expect(acked).toEqual(new Set(ids));
    });
  });
}
