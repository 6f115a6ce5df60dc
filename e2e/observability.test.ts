/**
 * Observability across services, on the one-process marketplace: placing an order is ONE connected
 * trace (the HTTP request in orders, the `order:created` handling in tickets, expiration and
 * payments, and the `ticket:updated` that tickets' handling caused, handled in orders), and
 * `/metrics` counts the events it caused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { waitFor } from '@ticketing/common/testing';
import { startOneProcess, User, type System } from './support.ts';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

/** The value of one sample of `/metrics` text, matched by name and (a subset of) labels. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

describe('traces and metrics across services', () => {
  let system: System & { marketplace: { url: string } };
  let seller: User;
  let buyer: User;
  beforeAll(async () => {
    system = await startOneProcess({ tracerProvider: provider });
    seller = await new User(system.route).signUp();
    buyer = await new User(system.route).signUp();
  });
  afterAll(async () => {
    await system.stop();
    await provider.shutdown();
  });

  it('places an order in one connected trace spanning orders, tickets, expiration and payments', async () => {
    const { body: ticket } = await seller.request<{ id: string }>('POST', '/api/tickets', {
      title: 'traced gala',
      price: 42,
    });
    await waitFor(async () => {
      const rows = await system.query('orders', 'select 1 from tickets where id = $1', [ticket.id]);
      return rows.length === 1;
    });

    const { status, body: order } = await buyer.request<{ id: string }>('POST', '/api/orders', {
      ticketId: ticket.id,
    });
    expect(status).toBe(201);

    const server = await waitFor(() =>
      exporter
        .getFinishedSpans()
        .find((s) => s.name === 'POST /api/orders' && s.attributes['http.response.status_code'] === 201),
    );
    const traceId = server.spanContext().traceId;
    const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const handling = (type: string, group: string) => (span: ReadableSpan) =>
      span.name === `handle ${type}` && span.attributes['messaging.consumer.group.name'] === group;
    const expected = [
      handling('order:created', 'tickets'),
      handling('order:created', 'expiration'),
      handling('order:created', 'payments'),
      handling('ticket:updated', 'orders'),
    ];
    const spans = await waitFor(() => {
      const found = inTrace();
      return expected.every((match) => found.some(match)) ? found : undefined;
    });

    // The request in orders is the root, a SERVER span named by its route pattern.
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.parentSpanContext).toBeUndefined();
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/api/orders',
      'http.response.status_code': 201,
      'ticketing.service': 'orders',
    });

    // Connected: every other span's parent is a span of the same trace, up to the request.
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    for (const span of spans) {
      if (span === server) continue;
      expect(span.parentSpanContext?.traceId, span.name).toBe(traceId);
      expect(ids.has(span.parentSpanContext!.spanId), `parent of ${span.name}`).toBe(true);
    }
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const ancestors = (span: ReadableSpan) => {
      const names: string[] = [];
      for (let p = span.parentSpanContext; p; p = byId.get(p.spanId)?.parentSpanContext) {
        names.push(byId.get(p.spanId)!.name);
      }
      return names;
    };

    for (const group of ['tickets', 'expiration', 'payments']) {
      const span = spans.find(handling('order:created', group))!;
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(span.attributes['ticketing.outcome']).toBe('ack');
      // The order:created written in the request's transaction continues the request's trace.
      expect(ancestors(span)).toEqual(['POST /api/orders']);
    }
    // The lock that tickets took is an event of the same trace, handled by orders.
    const replicaUpdate = spans.find(handling('ticket:updated', 'orders'))!;
    expect(ancestors(replicaUpdate)).toEqual(['handle order:created', 'POST /api/orders']);
    expect(replicaUpdate.parentSpanContext!.spanId).toBe(
      spans.find(handling('order:created', 'tickets'))!.spanContext().spanId,
    );
    // The relays' publications are there too: the order by orders, the lock by tickets.
    const send = (type: string) => spans.find((s) => s.name === `send ${type}`);
    expect(send('order:created')).toMatchObject({
      kind: SpanKind.PRODUCER,
      attributes: { 'ticketing.service': 'orders' },
    });
    expect(ancestors(send('order:created')!)).toEqual(['POST /api/orders']);
    expect(ancestors(send('ticket:updated')!)).toEqual(['handle order:created', 'POST /api/orders']);

    // The outbox row of this order carries the request's trace context.
    const [row] = await system.query<{ envelope: { traceparent?: string; data: { id: string } } }>(
      'orders',
      `select envelope from outbox where type = 'order:created' and envelope->'data'->>'id' = $1`,
      [order.id],
    );
    expect(row!.envelope.traceparent).toBe(`00-${traceId}-${server.spanContext().spanId}-01`);
  });

  it('counts the events at /metrics, and keeps probes and scrapes out of it', async () => {
    const text = await waitFor(async () => {
      const response = await fetch(`${system.marketplace.url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const body = await response.text();
      // The relay counts a publication once every group has handled it (in-process bus).
      return (sample(body, 'ticketing_events_published_total', { type: 'ticket:updated' }) ?? 0) >= 1
        ? body
        : undefined;
    });
    expect(
      sample(text, 'ticketing_events_published_total', { service: 'orders', type: 'order:created' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'ticketing_events_published_total', { service: 'tickets', type: 'ticket:updated' }),
    ).toBeGreaterThanOrEqual(1);
    for (const group of ['tickets', 'expiration', 'payments']) {
      expect(
        sample(text, 'ticketing_events_handled_total', { group, type: 'order:created' }),
        group,
      ).toBeGreaterThanOrEqual(1);
    }
    expect(
      sample(text, 'ticketing_events_handled_total', { service: 'orders', type: 'ticket:updated' }),
    ).toBeGreaterThanOrEqual(1);

    // HTTP durations by service, route pattern, method and status.
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        service: 'orders',
        method: 'POST',
        route: '/api/orders',
        status_code: '201',
      }),
    ).toBe(1);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/api\/orders"/);
    await fetch(`${system.marketplace.url}/healthz`);
    const after = await (await fetch(`${system.marketplace.url}/metrics`)).text();
    expect(after).not.toMatch(/route="\/(healthz|readyz|metrics)"/);

    // Scrape-time gauges: per-service outbox and per-group consumer pending counts.
    await waitFor(async () => {
      const body = await (await fetch(`${system.marketplace.url}/metrics`)).text();
      return sample(body, 'ticketing_outbox_backlog', { service: 'orders' }) === 0 ? body : undefined;
    });
    expect(
      sample(after, 'ticketing_outbox_oldest_unsent_age_seconds', { service: 'tickets' }),
    ).toBeGreaterThanOrEqual(0);
    expect(sample(after, 'ticketing_consumer_pending', { group: 'tickets', type: 'order:created' })).toBe(0);

    // No trace for probes and scrapes.
    expect(exporter.getFinishedSpans().some((s) => /metrics|healthz|readyz/.test(s.name))).toBe(false);

    // And none of them in the API docs.
    const { body: docs } = await buyer.request<{ paths: Record<string, unknown> }>('GET', '/api/docs/json');
    expect(Object.keys(docs.paths)).not.toEqual(expect.arrayContaining(['/metrics']));
    expect(Object.keys(docs.paths).some((p) => /metrics|healthz|readyz/.test(p))).toBe(false);
  });
});
