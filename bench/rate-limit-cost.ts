/**
 * `npm run bench:ratelimit`: what the general ceiling per client address costs a request of the
 * on-sale rush's route, `POST /api/orders`. A micro-benchmark: the orders service's HTTP server in
 * this process, driven with `inject` (no sockets), BENCH_RL_REQUESTS (5,000) orders for tickets
 * the service does not know (404 after one read: the request path of the rush's refusals) from
 * BENCH_RL_CONCURRENCY (16) callers, all from one address, under four arrangements, twice each in
 * turn:
 *
 * - no ceiling (the server without one, for the baseline);
 * - the ceiling in memory (the one-process marketplace);
 * - the ceiling shared through the service's database, as the replicas of a service count it
 *   (in memory, one statement per 100 ms for every address seen);
 * - for comparison, the alternative not taken: one upsert of the address's count per request,
 *   in an `onRequest` hook on the same table.
 *
 * Then the same with a route that does nothing, where the ceiling's own cost is a larger share.
 * Prints requests/s and this process's CPU per request (the server and `inject`), and the
 * difference to the baseline. On a busy machine the runs of one arrangement differ by more than
 * the arrangements do: raise BENCH_RL_ROUNDS. DATABASE_URL: the machine's Postgres (a database made and dropped).
 */
import { randomUUID } from 'node:crypto';
import {
  databaseUrl,
  ensureDatabase,
  migrateDatabase,
  openDatabase,
  registerService,
  type HttpServerOptions,
} from '@ticketing/common';
import { ordersService } from '@ticketing/orders';
import { mintCookie } from './lib/client.ts';
import { fmt, intFromEnv, machineAndLoad, runWorkers, table } from './lib/measure.ts';
import { benchHttpServer, DATABASE_URL, dropDatabases, logger, runId } from './lib/systems.ts';

const REQUESTS = intFromEnv('BENCH_RL_REQUESTS', 5_000);
const CONCURRENCY = intFromEnv('BENCH_RL_CONCURRENCY', 16);
const ROUNDS = intFromEnv('BENCH_RL_ROUNDS', 2);

const name = `bench_ratelimit_${runId()}`;
const url = databaseUrl(DATABASE_URL, name);
await ensureDatabase(url);
const database = openDatabase(url, { logger });
const module = ordersService({ expirationSeconds: 900 });
await migrateDatabase(database, module.migrations);
const jwtKey = `bench-${randomUUID()}`;
const cookie = await mintCookie(jwtKey);

const CEILING = { max: 100_000_000, windowSeconds: 60 };
const UPSERT = `
  insert into rate_limits as r (key, hits, expires_at) values ($1, 1, now() + interval '60 seconds')
  on conflict (key) do update set
    hits = case when r.expires_at <= now() then 1 else r.hits + 1 end,
    expires_at = case when r.expires_at <= now() then excluded.expires_at else r.expires_at end
  returning hits`;

type Arrangement = { name: string; server: Pick<HttpServerOptions, 'rateLimits'>; upsertPerRequest?: true };
const arrangements: Arrangement[] = [
  { name: 'no ceiling', server: {} },
  { name: 'ceiling in memory', server: { rateLimits: { ceiling: CEILING } } },
  {
    name: 'ceiling shared through the database',
    server: { rateLimits: { pool: database.pool, ceiling: CEILING } },
  },
  { name: 'one upsert per request (not taken)', server: {}, upsertPerRequest: true },
];

type Route = 'orders' | 'bare';

async function run(arrangement: Arrangement, route: Route): Promise<{ perSecond: number; cpuUs: number }> {
  const app = await benchHttpServer('orders', { jwtKey, title: 'bench', ...arrangement.server });
  if (arrangement.upsertPerRequest)
    app.addHook('onRequest', async () => {
      await database.pool.query({ name: 'bench-upsert', text: UPSERT, values: ['bench:127.0.0.1'] });
    });
  if (route === 'orders') await registerService(app, module, { database, logger });
  else app.get('/bench', async () => ({ ok: true }));
  await app.ready();
  const send = () =>
    route === 'orders'
      ? app.inject({
          method: 'POST',
          url: '/api/orders',
          headers: { cookie },
          payload: { ticketId: randomUUID() },
        })
      : app.inject({ method: 'GET', url: '/bench' });
  const expected = route === 'orders' ? 404 : 200;
  for (let i = 0; i < 500; i++) await send(); // warm-up
  const cpu = process.cpuUsage();
  const started = performance.now();
  await runWorkers(CONCURRENCY, REQUESTS, async () => {
    const response = await send();
    if (response.statusCode !== expected) throw new Error(`${arrangement.name}: ${response.statusCode}`);
  });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await app.close();
  return { perSecond: REQUESTS / seconds, cpuUs: (used.user + used.system) / REQUESTS };
}

try {
  console.log(machineAndLoad());
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  for (const [route, title] of [
    ['orders', 'POST /api/orders (404), one address'],
    ['bare', 'a route doing nothing, one address'],
  ] as const) {
    const results = new Map<string, { perSecond: number; cpuUs: number }[]>();
    for (let round = 0; round < ROUNDS; round++)
      for (const arrangement of arrangements) {
        const result = await run(arrangement, route);
        results.set(arrangement.name, [...(results.get(arrangement.name) ?? []), result]);
      }
    const baseline = mean(results.get('no ceiling')!.map((r) => r.cpuUs));
    console.log(
      table(
        [title, 'req/s', 'CPU µs/request', 'mean vs no ceiling'],
        arrangements.map(({ name }) => {
          const runs = results.get(name)!;
          const cpu = mean(runs.map((r) => r.cpuUs));
          return [
            name,
            runs.map((r) => fmt(r.perSecond, 0)).join(', '),
            runs.map((r) => fmt(r.cpuUs, 0)).join(', '),
            name === 'no ceiling' ? '' : `${cpu >= baseline ? '+' : ''}${fmt(cpu - baseline, 0)} µs`,
          ];
        }),
      ),
    );
  }
  const { rows } = await database.pool.query<{ n: number }>('select count(*)::int as n from rate_limits');
  console.log(`rate_limits rows after the runs: ${rows[0]!.n}`);
} finally {
  await database.close();
  await dropDatabases(DATABASE_URL, [name]);
}
