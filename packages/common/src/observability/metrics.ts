/**
 * Prometheus metrics (prom-client), served at `GET /metrics` by every service's HTTP server.
 *
 * One registry per process: in the one-process marketplace every service shares it, so every
 * metric carries a `service` label. Counters are bumped on the hot path (a label lookup and an
 * increment); the gauges that need I/O (outbox backlog and age, consumer pending counts) are
 * computed only when scraped.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServiceDatabase } from '../db/database.ts';
import type { Transport } from '../messaging/transport.ts';

export const metricsRegistry = new Registry();
const registers = [metricsRegistry];

const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP requests by service, route pattern, method and status code, in seconds',
  labelNames: ['service', 'method', 'route', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers,
});

// Event counters are plain numbers on the hot path (an increment, no label hashing), copied into
// prom-client's counters when scraped.
interface PublishedCell {
  labels: { service: string; type: string };
  published: number;
}
interface ConsumerCell {
  labels: { service: string; group: string; type: string };
  handled: number;
  retried: number;
  deadLettered: number;
}
const publishedCells = new Map<string, PublishedCell>();
const consumerCells = new Map<string, ConsumerCell>();

new Counter({
  name: 'ticketing_events_published_total',
  help: 'Events the outbox relay published to the bus, by publishing service and event type',
  labelNames: ['service', 'type'] as const,
  registers,
  collect() {
    this.reset();
    for (const cell of publishedCells.values()) this.inc(cell.labels, cell.published);
  },
});

// The consumer group of a service is its name: `group` and `service` carry the same value, so that
// every metric can be filtered by service and the consumer ones also read as "by group".
const consumerCounter = (name: string, help: string, field: 'handled' | 'retried' | 'deadLettered') =>
  new Counter({
    name,
    help,
    labelNames: ['service', 'group', 'type'] as const,
    registers,
    collect() {
      this.reset();
      for (const cell of consumerCells.values()) this.inc(cell.labels, cell[field]);
    },
  });
consumerCounter(
  'ticketing_events_handled_total',
  'Deliveries handled and acknowledged (including duplicates acknowledged without effect)',
  'handled',
);
consumerCounter(
  'ticketing_events_retried_total',
  'Deliveries sent back for a later retry (an event from the future, a failure, an outage)',
  'retried',
);
consumerCounter(
  'ticketing_events_dead_lettered_total',
  'Events given up on and recorded in the dead letters',
  'deadLettered',
);

export function observeHttpRequest(
  service: string,
  method: string,
  route: string,
  statusCode: number,
  seconds: number,
): void {
  httpRequestDuration.observe({ service, method, route, status_code: statusCode }, seconds);
}

/** The publish counter of one service and event type. */
export function publishedCounter(service: string, type: string): () => void {
  const key = `${service}\u0000${type}`;
  let cell = publishedCells.get(key);
  if (!cell) publishedCells.set(key, (cell = { labels: { service, type }, published: 0 }));
  const counted = cell;
  return () => {
    counted.published += 1;
  };
}

export interface ConsumerMetrics {
  handled(): void;
  retried(): void;
  deadLettered(): void;
}

/** The counters of one consumer (group, event type); its series exist, at 0, from the start. */
export function consumerMetrics(group: string, type: string): ConsumerMetrics {
  const key = `${group}\u0000${type}`;
  let cell = consumerCells.get(key);
  if (!cell) {
    cell = { labels: { service: group, group, type }, handled: 0, retried: 0, deadLettered: 0 };
    consumerCells.set(key, cell);
  }
  const counted = cell;
  return {
    handled: () => void (counted.handled += 1),
    retried: () => void (counted.retried += 1),
    deadLettered: () => void (counted.deadLettered += 1),
  };
}

// ---- computed at scrape time --------------------------------------------------------------------

interface WatchedService {
  service: string;
  database: ServiceDatabase;
  transport: Transport;
}

const watched = new Set<WatchedService>();

/**
 * Adds a running service's outbox and its transport's consumers to the scrape-time gauges; the
 * returned function removes them (call it before closing the database).
 */
export function watchService(service: WatchedService): () => void {
  const entry = { ...service };
  watched.add(entry);
  return () => watched.delete(entry);
}

interface OutboxStats {
  service: string;
  backlog: number;
  oldestSeconds: number;
}

/** One query per service database per scrape, shared by the two outbox gauges. */
let outboxStatsInFlight: Promise<OutboxStats[]> | undefined;
function outboxStats(): Promise<OutboxStats[]> {
  outboxStatsInFlight ??= Promise.all(
    [...watched].map(async ({ service, database }) => {
      try {
        const { rows } = await database.pool.query<{ backlog: number; oldest: number | null }>(
          `select count(*)::int as backlog,
                  extract(epoch from now() - min(created_at))::float8 as oldest
             from outbox where sent_at is null`,
        );
        return [{ service, backlog: rows[0]!.backlog, oldestSeconds: Math.max(0, rows[0]!.oldest ?? 0) }];
      } catch {
        return []; // the database is unreachable: no sample rather than a wrong one
      }
    }),
  )
    .then((perService) => perService.flat())
    .finally(() => (outboxStatsInFlight = undefined));
  return outboxStatsInFlight;
}

new Gauge({
  name: 'ticketing_outbox_backlog',
  help: 'Outbox rows not yet published (marked sent), per service',
  labelNames: ['service'] as const,
  registers,
  async collect() {
    this.reset();
    for (const stats of await outboxStats()) this.set({ service: stats.service }, stats.backlog);
  },
});

new Gauge({
  name: 'ticketing_outbox_oldest_unsent_age_seconds',
  help: 'Age of the oldest outbox row not yet published, per service (0 when none)',
  labelNames: ['service'] as const,
  registers,
  async collect() {
    this.reset();
    for (const stats of await outboxStats()) this.set({ service: stats.service }, stats.oldestSeconds);
  },
});

new Gauge({
  name: 'ticketing_consumer_pending',
  help: 'Messages a consumer group has not settled yet: waiting plus in flight (JetStream: num_pending + num_ack_pending)',
  labelNames: ['service', 'group', 'type'] as const,
  registers,
  async collect() {
    this.reset();
    const transports = new Set([...watched].map((w) => w.transport));
    const results = await Promise.all(
      [...transports].map((transport) =>
        transport.pendingCounts ? transport.pendingCounts().catch(() => []) : Promise.resolve([]),
      ),
    );
    for (const { group, subject, pending } of results.flat()) {
      this.set({ service: group, group, type: subject }, pending);
    }
  },
});

let processMetrics = false;

/** Node's process metrics (CPU, memory, event loop lag, GC), once per process. */
export function collectProcessMetrics(service: string): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry, labels: { service } });
}

/** The registry in Prometheus' text format. */
export function renderMetrics(): Promise<string> {
  return metricsRegistry.metrics();
}
