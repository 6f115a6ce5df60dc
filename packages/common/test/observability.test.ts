/**
 * Traces, metrics and log correlation in the common runtime: the `traceparent` written with an
 * event in the outbox is the one the consumer's span continues (in-process bus); HTTP server spans;
 * the counters and gauges at `/metrics`; trace ids in log lines; and nothing of it while tracing is
 * off.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, SpanKind, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { migrateDatabase } from '../src/db/database.ts';
import { makeEvent, parseEvent } from '../src/events/contract.ts';
import { buildHttpServer } from '../src/http/server.ts';
import { InProcessBus } from '../src/messaging/in-process.ts';
import { JetStreamTransport } from '../src/messaging/jetstream.ts';
import { defineListener, RetryLater, startListeners, UnprocessableEvent } from '../src/messaging/listener.ts';
import { OutboxRelay } from '../src/messaging/outbox-relay.ts';
import { publishEvent } from '../src/messaging/outbox.ts';
import { renderMetrics, watchService } from '../src/observability/metrics.ts';
import { observeTransport } from '../src/observability/transport.ts';
import { installTracing, traceLogFields, tracingEnabled } from '../src/observability/tracing.ts';
import { createTestDatabase, silentLogger, sleep, waitFor } from '../src/testing/index.ts';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

const ticket = () => ({
  id: randomUUID(),
  version: 0,
  title: 't',
  price: 100,
  faceValue: 100,
  userId: randomUUID(),
  listed: true,
  timesSold: 0,
});

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

async function outboxEnvelope(database: TestDatabase, eventId: string) {
  const { rows } = await database.pool.query<{ envelope: { traceparent?: string } }>(
    'select envelope from outbox where event_id = $1',
    [eventId],
  );
  return rows[0]!.envelope;
}

describe('observability', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database);
  });
  afterAll(() => database.drop());

  describe('while tracing is off', () => {
    it('writes no traceparent and creates no span', async () => {
      expect(tracingEnabled()).toBe(false);
      const event = await database.db.transaction((tx) => publishEvent(tx, 'ticket:created', ticket()));
      expect('traceparent' in event).toBe(false);
      expect(await outboxEnvelope(database, event.id)).not.toHaveProperty('traceparent');
      expect(trace.getActiveSpan()).toBeUndefined();
      expect(traceLogFields()).toEqual({});
    });

    it('accepts envelopes with and without a traceparent', () => {
      const event = makeEvent('ticket:created', ticket());
      expect(parseEvent(event, 'ticket:created').ok).toBe(true);
      const traced = { ...event, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
      expect(parseEvent(traced, 'ticket:created').ok).toBe(true);
      // A malformed one is not the event's fault: still valid (its handling starts a new trace).
      expect(parseEvent({ ...event, traceparent: 'garbage' }, 'ticket:created').ok).toBe(true);
    });
  });

  describe('while tracing is on', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    let uninstall: () => void;
    beforeAll(() => {
      uninstall = installTracing(provider);
    });
    afterAll(async () => {
      uninstall();
      await provider.shutdown();
    });
    const spans = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

    it('continues, in the consumer, the traceparent written with the event in the outbox', async () => {
      await database.pool.query('delete from outbox'); // earlier tests' rows have no consumer here
      const bus = new InProcessBus();
      const handledIn: { traceId?: string; spanId?: string }[] = [];
      const listeners = await startListeners({
        group: 'observer',
        database,
        transport: observeTransport(bus, 'observer'),
        logger: silentLogger,
        listeners: [
          defineListener('ticket:updated', async () => {
            const active = trace.getActiveSpan()?.spanContext();
            handledIn.push({ traceId: active?.traceId, spanId: active?.spanId });
          }),
        ],
      });
      const relay = new OutboxRelay({
        database,
        transport: observeTransport(bus, 'producer'),
        logger: silentLogger,
      });
      relay.start();
      try {
        const parent = provider.getTracer('test').startSpan('request');
        const event = await context.with(trace.setSpan(context.active(), parent), () =>
          database.db.transaction((tx) => publishEvent(tx, 'ticket:updated', ticket())),
        );
        parent.end();

        // Stored with the row: the context of the span active at publishEvent.
        const { traceparent } = await outboxEnvelope(database, event.id);
        expect(event.traceparent).toBe(traceparent);
        const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparent!)!;
        expect(traceId).toBe(parent.spanContext().traceId);
        expect(spanId).toBe(parent.spanContext().spanId);

        // The consumer's span continues exactly that context, and is active in the handler.
        const handled = await waitFor(() => spans('handle ticket:updated')[0]);
        expect(handled.kind).toBe(SpanKind.CONSUMER);
        expect(handled.spanContext().traceId).toBe(traceId);
        expect(handled.parentSpanContext?.spanId).toBe(spanId);
        expect(handled.attributes).toMatchObject({
          'messaging.consumer.group.name': 'observer',
          'messaging.destination.name': 'ticket:updated',
          'messaging.message.id': event.id,
          'ticketing.outcome': 'ack',
        });
        expect(handledIn).toEqual([{ traceId, spanId: handled.spanContext().spanId }]);

        // The relay's send continues it too.
        const sent = await waitFor(() => spans('send ticket:updated')[0]);
        expect(sent.parentSpanContext?.spanId).toBe(spanId);
        expect(sent.attributes['ticketing.service']).toBe('producer');
      } finally {
        await listeners.close();
        await relay.stop();
        await bus.close();
      }
    });

    it('handles an envelope without traceparent in a new trace', async () => {
      const bus = new InProcessBus();
      const listeners = await startListeners({
        group: 'legacy',
        database,
        transport: observeTransport(bus, 'legacy'),
        logger: silentLogger,
        listeners: [defineListener('ticket:created', async () => {})],
      });
      try {
        const event = makeEvent('ticket:created', ticket());
        await bus.publish('ticket:created', event.id, event);
        const span = await waitFor(() =>
          spans('handle ticket:created').find((s) => s.attributes['messaging.message.id'] === event.id),
        );
        expect(span.parentSpanContext).toBeUndefined();
        expect(span.attributes['ticketing.outcome']).toBe('ack');
      } finally {
        await listeners.close();
        await bus.close();
      }
    });

    it('gives HTTP requests a SERVER span named by route pattern, continuing an incoming traceparent', async () => {
      const lines: Record<string, unknown>[] = [];
      const logger = pino(
        { mixin: traceLogFields },
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            done();
          },
        }),
      );
      const app = await buildHttpServer({
        logger,
        jwtKey: 'observability-test-key-0123456789-0123456789',
        secureCookies: false,
        title: 'test',
        service: 'things',
        readiness: {},
      });
      app.get('/things/:id', async (request) => {
        request.log.info('inside');
        return { ok: true };
      });
      app.get('/boom', async () => {
        throw new Error('boom');
      });
      await app.ready();
      try {
        const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
        const response = await app.inject({ url: '/things/42?x=1', headers: { traceparent: incoming } });
        expect(response.statusCode).toBe(200);
        const [span] = spans('GET /things/:id') as [ReadableSpan];
        expect(span.kind).toBe(SpanKind.SERVER);
        expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
        expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
        expect(span.attributes).toMatchObject({
          'http.request.method': 'GET',
          'http.route': '/things/:id',
          'url.path': '/things/42',
          'http.response.status_code': 200,
          'ticketing.service': 'things',
        });

        // Log lines in the handler, and the request's line, carry the trace.
        const ids = { trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId };
        expect(lines.find((l) => l.msg === 'inside')).toMatchObject(ids);
        expect(lines.find((l) => l.msg === 'request' && l.url === '/things/42?x=1')).toMatchObject(ids);

        expect((await app.inject({ url: '/boom' })).statusCode).toBe(500);
        expect(spans('GET /boom')[0]!.status.code).toBe(2); // ERROR

        for (const url of ['/healthz', '/readyz', '/metrics']) {
          expect((await app.inject({ url })).statusCode).toBe(200);
        }
        expect(exporter.getFinishedSpans().some((s) => /healthz|readyz|metrics/.test(s.name))).toBe(false);
        const docs = (await app.inject({ url: '/api/docs/json' })).json<{ paths: Record<string, unknown> }>();
        expect(Object.keys(docs.paths)).toEqual(['/things/{id}', '/boom']);
      } finally {
        await app.close();
      }
    });
  });

  it('counts events published, handled, retried and dead-lettered, and scrapes the outbox and consumers', async () => {
    // A database of its own: rows of the other tests, for subjects nobody consumes, never drain.
    const database = await createTestDatabase();
    await migrateDatabase(database);
    const bus = new InProcessBus();
    const group = `counted-${randomUUID().slice(0, 8)}`;
    let failuresLeft = 1;
    const listeners = await startListeners({
      group,
      database,
      transport: observeTransport(bus, group),
      logger: silentLogger,
      policy: { baseDelayMs: 1 },
      listeners: [
        // Each delivery alone: in a shared transaction, the failure of one would be met by the
        // batch and then replayed alone, and the retry counted would depend on how they arrived.
        defineListener(
          'ticket:updated',
          async ({ data }) => {
            if (data.title === 'poison') throw new UnprocessableEvent('never');
            if (data.title === 'early' && failuresLeft-- > 0) throw new RetryLater('not yet');
          },
          { batch: false },
        ),
      ],
    });
    const relay = new OutboxRelay({
      database,
      transport: observeTransport(bus, group),
      logger: silentLogger,
    });
    const unwatch = watchService({ service: group, database, transport: bus });
    try {
      const labels = { group, type: 'ticket:updated' };
      let text = await renderMetrics();
      expect(sample(text, 'ticketing_consumer_pending', labels)).toBe(0);

      await database.db.transaction(async (tx) => {
        await publishEvent(tx, 'ticket:updated', { ...ticket(), title: 'fine' });
        await publishEvent(tx, 'ticket:updated', { ...ticket(), title: 'early' });
        await publishEvent(tx, 'ticket:updated', { ...ticket(), title: 'poison' });
      });
      text = await renderMetrics();
      expect(sample(text, 'ticketing_outbox_backlog', { service: group })).toBeGreaterThanOrEqual(3);
      expect(
        sample(text, 'ticketing_outbox_oldest_unsent_age_seconds', { service: group }),
      ).toBeGreaterThanOrEqual(0);

      relay.start();
      await relay.drain();
      text = await renderMetrics();
      expect(sample(text, 'ticketing_outbox_backlog', { service: group })).toBe(0);
      expect(sample(text, 'ticketing_outbox_oldest_unsent_age_seconds', { service: group })).toBe(0);
      expect(
        sample(text, 'ticketing_events_published_total', { service: group, type: 'ticket:updated' }),
      ).toBe(3);
      expect(sample(text, 'ticketing_events_handled_total', labels)).toBe(2);
      expect(sample(text, 'ticketing_events_retried_total', labels)).toBe(1);
      expect(sample(text, 'ticketing_events_dead_lettered_total', labels)).toBe(1);
      expect(sample(text, 'ticketing_consumer_pending', labels)).toBe(0);

      // Pending: waiting plus in flight, per group and subject.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const blocked = await bus.subscribe(
        {
          group: `${group}-slow`,
          subject: 'order:created',
          ackWaitMs: 30_000,
          maxDeliver: -1,
          concurrency: 1,
        },
        async (message) => {
          await gate;
          await message.ack();
        },
      );
      const published = [1, 2, 3].map((n) => bus.publish('order:created', `m${n}`, {}));
      const slow = { group: `${group}-slow`, type: 'order:created' };
      expect(sample(await renderMetrics(), 'ticketing_consumer_pending', slow)).toBe(3);
      release();
      await Promise.all(published);
      expect(sample(await renderMetrics(), 'ticketing_consumer_pending', slow)).toBe(0);
      await blocked.close();
    } finally {
      unwatch();
      await listeners.close();
      await relay.stop();
      await bus.close();
      await database.drop();
    }
  });

  it.runIf(process.env.NATS_URL)(
    'reads JetStream pending counts from the durable: num_pending + num_ack_pending',
    async () => {
      const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
      const transport = await JetStreamTransport.connect({
        servers: process.env.NATS_URL!,
        stream: `OBS_${suffix}`,
        subjectPrefix: `obs_${suffix}`,
        logger: silentLogger,
      });
      try {
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const handled: string[] = [];
        await transport.subscribe(
          { group: 'slow', subject: 'order:created', ackWaitMs: 30_000, maxDeliver: -1, concurrency: 1 },
          async (message) => {
            await gate;
            await message.ack();
            handled.push(message.id);
          },
        );
        for (const n of [1, 2, 3]) await transport.publish('order:created', `m${n}-${suffix}`, {});
        await waitFor(async () => {
          await sleep(1_100); // past the cache
          const [counts] = await transport.pendingCounts();
          return counts?.pending === 3;
        });
        expect(await transport.pendingCounts()).toEqual([
          { group: 'slow', subject: 'order:created', pending: 3 },
        ]);
        release();
        await waitFor(() => handled.length === 3);
        await sleep(1_100);
        expect(await transport.pendingCounts()).toEqual([
          { group: 'slow', subject: 'order:created', pending: 0 },
        ]);
      } finally {
        await transport.destroy();
        await transport.close();
      }
    },
  );
});
