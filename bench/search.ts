/**
 * `npm run bench:search`: the search of tickets for sale, `GET /api/tickets`, on a table of
 * BENCH_SEARCH_LISTINGS (100,000) listings. Makes a database on the PostgreSQL server at
 * DATABASE_URL or TEST_DATABASE_URL (an embedded one when neither is set), applies the tickets
 * service's migrations, fills the table with one SQL statement (titles from a vocabulary, 50
 * cities of unequal size, starts over the next year at evening times, prices 10 to 500, mostly at
 * face value), VACUUM ANALYZEs it, and serves the tickets service's routes from a process of its own
 * with its read cache off (`cacheTtlMs: 0`, TICKETS_CACHE_TTL_MS=0), so that every request reaches
 * the database, and the rate limits of every benchmark (BENCH_LIMIT_SETTINGS).
 *
 * Each query is sent by BENCH_SEARCH_CONNECTIONS (16) keep-alive connections, each sending the
 * next request when the last is answered, for BENCH_SEARCH_SECONDS (10) after a second of warm-up,
 * then by one connection alone (a request's own time, without waiting behind others); prints
 * requests/s and the latency's p50 and p99 per query. At a fixed concurrency latency is
 * concurrency ÷ throughput: a p99 under 20 ms at 16 connections needs some 800 requests/s. Then, for each query, the SQL the
 * tickets repository issued for it (captured from Drizzle's query log while the same route
 * answered it once in this process) and that statement's `EXPLAIN (ANALYZE, BUFFERS)`, with the
 * indexes the plan used. The database is dropped at the end (BENCH_SEARCH_KEEP=1 keeps it).
 */
import { randomUUID } from 'node:crypto';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Logger as QueryLogger } from 'drizzle-orm/logger';
import { migrateDatabase, registerService } from '@ticketing/common';
import { ticketsService } from '@ticketing/tickets';
import { Client } from './lib/client.ts';
import { fmt, intFromEnv, loadAverage, machineAndLoad, percentile, table } from './lib/measure.ts';
import { startServiceHost } from './lib/service-host.ts';
import { benchHttpServer, createDatabase, logger, startPostgres, type BenchDatabase } from './lib/systems.ts';

const LISTINGS = intFromEnv('BENCH_SEARCH_LISTINGS', 100_000);
const CONNECTIONS = intFromEnv('BENCH_SEARCH_CONNECTIONS', 16);
const SECONDS = intFromEnv('BENCH_SEARCH_SECONDS', 10);
const WARM_UP_MS = 1_000;
/** Leave the database for a look at other plans (`psql`), instead of dropping it. */
const KEEP = process.env.BENCH_SEARCH_KEEP === '1';
/** The service's settings: the page cache off, so that the database is what is measured. */
const TICKETS = { cacheTtlMs: 0, markupPercent: 0 };

const DAY = 86_400_000;
const isoInDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

/**
 * The listings, drawn with a fixed seed: an act (an adjective and a noun, 40 × 40) and a bill
 * (20) per title, a seat now and then; a city among 50, the first ones far more often (a city's
 * share falls from 10 % to about 1 %), one of six venues there; a start on an evening of the
 * next 365 days; a price of 10 to 500 (median about 100), at face value or a little under it;
 * 5,000 sellers. Some 4 % are not listed and 1 % held by an order, as on a live market: the
 * indexes skip those.
 */
const FILL = (count: number) => `
select setseed(0.42);
insert into tickets (id, title, price_cents, face_value_cents, user_id, listed, order_id,
                     venue, city, starts_at, created_at, acquired_at)
with words as (
  select
    array['Midnight','Golden','Electric','Silent','Northern','Velvet','Crystal','Wild','Lunar','Neon',
          'Broken','Scarlet','Hollow','Paper','Silver','Burning','Frozen','Gentle','Restless','Solar',
          'Urban','Amber','Cosmic','Distant','Endless','Faded','Hidden','Iron','Jaded','Kinetic',
          'Lucky','Magnetic','Noble','Orange','Pale','Quiet','Royal','Savage','Tender','Vivid'] as adjectives,
    array['Orchards','Harbour','Static','Lanterns','Wolves','Rivers','Echoes','Gardens','Machines','Pilots',
          'Sparrows','Tides','Mirrors','Giants','Horses','Islands','Kites','Lights','Monks','Oceans',
          'Parade','Quartet','Riders','Saints','Thieves','Voyagers','Waves','Years','Zephyrs','Arrows',
          'Bandits','Circus','Dancers','Engines','Foxes','Ghosts','Hearts','Kings','Orchestra','Ensemble'] as nouns,
    array['live','world tour','album release show','acoustic night','greatest hits','farewell tour',
          'club night','all night long','unplugged','summer festival','symphony no. 5','requiem',
          'opera gala','stand-up special','comedy night','jazz session','piano recital','musical',
          'ballet','christmas concert'] as bills,
    array['','','','','',' · standing',' · balcony',' · floor',' · stalls',' · row F seat 12'] as seats,
    array['Paris','London','Berlin','Madrid','Barcelona','Amsterdam','Wien','München','Milano','Roma',
          'Praha','Warszawa','Kraków','Budapest','Bruxelles','København','Stockholm','Oslo','Helsinki','Dublin',
          'Lisboa','Porto','Zürich','Genève','Lyon','Marseille','Toulouse','Bordeaux','Nantes','Lille',
          'Köln','Hamburg','Frankfurt','Stuttgart','Düsseldorf','Leipzig','Dresden','Rotterdam','Utrecht','Antwerpen',
          'Göteborg','Malmö','Århus','Sevilla','València','Málaga','Bilbao','Napoli','Torino','Bologna'] as cities,
    array['Olympia','Paradiso','Columbiahalle','Arena','Philharmonie','Roundhouse','Apollo','Palladium',
          'Tonhalle','Melkweg','Zénith','Bataclan','Cigale','Palau','Razzmatazz','Sala Apolo','Konzerthaus',
          'Opéra','Théâtre','Stadthalle','Musikhuset','Globen','Forum','Coliseum','Rotonde','Cirque',
          'Tempodrom','Volkshaus','Auditorium','Fabrik'] as venues
), draws as (
  select g, random() a, random() n, random() b, random() s, random() c, random() v, random() d,
         random() h, random() p, random() f, random() u, random() l, random() o, random() t
  from generate_series(1, ${count}) g
)
select
  md5('ticket' || g)::uuid,
  adjectives[1 + floor(a * 40)::int] || ' ' || nouns[1 + floor(n * 40)::int] || ': ' ||
    bills[1 + floor(b * 20)::int] || seats[1 + floor(s * 10)::int],
  price,
  case when f < 0.6 then price else price + (floor(price * f * 0.3 / 50) * 50)::int end,
  md5('seller' || floor(u * 5000)::int)::uuid,
  l >= 0.04,
  case when o < 0.01 then md5('order' || g)::uuid end,
  venues[1 + (floor(c ^ 1.7 * 50)::int * 7 + floor(v * 6)::int) % 30],
  cities[1 + floor(c ^ 1.7 * 50)::int],
  date_trunc('day', now()) + (1 + floor(d * 365)::int) * interval '1 day'
    + (18 + floor(h * 4)::int) * interval '1 hour' + (floor(h * 8)::int % 2) * interval '30 minutes',
  now() - t * interval '90 days',
  now() - t * interval '90 days'
from words, draws,
  lateral (select 1000 + (floor(49000 * p ^ 2.2 / 50) * 50)::int as price) prices;`;

interface Query {
  name: string;
  path: string;
}

/** The queries measured, (a) to (e) and a few more of interest. */
async function queries(pool: import('pg').Pool): Promise<Query[]> {
  // A deep page: the cursor the API gives after the 50,000th ticket of the newest-first order.
  const { rows } = await pool.query<{ key: string; id: string }>(
    `select created_at::text as key, id from tickets where listed and order_id is null
      order by created_at desc, id desc offset $1 limit 1`,
    [Math.floor(LISTINGS / 2)],
  );
  const deep = rows[0]
    ? Buffer.from(JSON.stringify(['newest', rows[0].key, rows[0].id])).toString('base64url')
    : undefined;
  return [
    { name: '(a) one word (1 in 40)', path: '/api/tickets?q=midnight' },
    { name: '(a) a frequent word (1 in 5)', path: '/api/tickets?q=night' },
    { name: '(b) a word and a city', path: '/api/tickets?q=midnight&city=koln' },
    { name: '(b) a large city alone (1 in 10)', path: '/api/tickets?city=PARIS' },
    {
      name: '(c) a month of starts, by price',
      path: `/api/tickets?from=${isoInDays(30)}&to=${isoInDays(60)}&sort=price`,
    },
    { name: '(c) soonest first', path: '/api/tickets?sort=startsAt' },
    { name: '(d) the first page, no filter', path: '/api/tickets' },
    ...(deep ? [{ name: '(e) a deep page (cursor)', path: `/api/tickets?cursor=${deep}` }] : []),
  ];
}

interface Measured {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

/** `connections` loops, each sending `path` again as soon as it is answered, for `ms`. */
async function drive(url: string, path: string, connections: number, ms: number): Promise<Measured> {
  const client = new Client(url, connections);
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const until = started + ms;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const response = await client.request('GET', path, '');
          if (response.status === 200) latencies.push(response.doneAt - response.sentAt);
          else failures++;
        }
      }),
    );
  } finally {
    client.close();
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  return {
    requests: latencies.length,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    failures,
  };
}

/** The statements the tickets repository sends for one request of each query, from Drizzle's log. */
async function captureSql(
  database: BenchDatabase,
  paths: string[],
): Promise<{ sql: string; params: unknown[] }[]> {
  let last: { sql: string; params: unknown[] } | undefined;
  const capture: QueryLogger = { logQuery: (sql, params) => void (last = { sql, params }) };
  const app = await benchHttpServer('tickets');
  const logging = { ...database, db: drizzle(database.pool, { logger: capture }) };
  await registerService(app, ticketsService({ ...TICKETS, credentialKey: randomUUID() + randomUUID() }), {
    database: logging,
    logger,
  });
  await app.ready();
  const captured: { sql: string; params: unknown[] }[] = [];
  try {
    for (const path of paths) {
      last = undefined;
      const response = await app.inject({ url: path });
      if (response.statusCode !== 200 || !last)
        throw new Error(`${path}: ${response.statusCode} ${response.body}`);
      captured.push(last);
    }
  } finally {
    await app.close();
  }
  return captured;
}

/** The plan's lines, and the indexes it reads. */
async function explain(pool: import('pg').Pool, sql: string, params: unknown[]) {
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${sql}`, params);
  const lines = rows.map((row) => row['QUERY PLAN']);
  const indexes = [
    ...new Set(lines.flatMap((line) => [...line.matchAll(/\b(tickets_\w+_idx)\b/g)].map((m) => m[1]!))),
  ];
  const executionMs = Number(/Execution Time: ([\d.]+) ms/.exec(lines.join('\n'))?.[1]);
  return { lines, indexes, executionMs };
}

const server = await startPostgres();
const database = await createDatabase(server.url, 'search', 'select 1', 4);
try {
  await migrateDatabase(database, ticketsService({ credentialKey: randomUUID() + randomUUID() }).migrations);
  console.log(machineAndLoad());
  console.log(`PostgreSQL: ${server.origin}, ${server.version}; ${server.settings}`);
  const started = performance.now();
  await database.pool.query(FILL(LISTINGS));
  // As autovacuum would soon after such a load: statistics, the visibility map, and the search
  // index's pending list merged into the index (until then a search reads all of it).
  await database.pool.query('vacuum analyze tickets');
  const { rows: sizes } = await database.pool.query<{ forsale: number; size: string; indexes: string }>(
    `select count(*) filter (where listed and order_id is null and starts_at > now()) as forsale,
            pg_size_pretty(pg_table_size('tickets')) as size,
            pg_size_pretty(pg_indexes_size('tickets')) as indexes from tickets`,
  );
  console.log(
    `${fmt(LISTINGS, 0)} listings (${fmt(sizes[0]!.forsale, 0)} for sale) inserted and analysed in ${fmt((performance.now() - started) / 1000)} s; table ${sizes[0]!.size}, indexes ${sizes[0]!.indexes}`,
  );

  const measured = await queries(database.pool);
  // The statements and their plans first, on a quiet server.
  const statements = await captureSql(
    database,
    measured.map((q) => q.path),
  );
  const plans: Awaited<ReturnType<typeof explain>>[] = [];
  for (const { sql, params } of statements) plans.push(await explain(database.pool, sql, params));

  const host = await startServiceHost({ databaseUrl: database.url, tickets: TICKETS });
  try {
    for (const connections of [CONNECTIONS, 1]) {
      console.log(
        `\nGET /api/tickets, read cache off (TICKETS_CACHE_TTL_MS=0): ${connections} connection${connections === 1 ? '' : 's'}, ${SECONDS} s per query after ${WARM_UP_MS / 1000} s of warm-up`,
      );
      const results: Measured[] = [];
      for (const query of measured) {
        await drive(host.url, query.path, connections, WARM_UP_MS);
        results.push(await drive(host.url, query.path, connections, SECONDS * 1000));
      }
      console.log(
        table(
          ['query', 'req/s', 'p50 ms', 'p99 ms', 'p99 < 20 ms', 'failed', 'EXPLAIN ms', 'indexes'],
          results.map((r, i) => [
            measured[i]!.name,
            fmt(r.perSecond, 0),
            fmt(r.p50, 2),
            fmt(r.p99, 2),
            r.p99 < 20 ? 'yes' : 'NO',
            String(r.failures),
            fmt(plans[i]!.executionMs, 2),
            plans[i]!.indexes.join(', ') || 'none',
          ]),
        ),
      );
    }
  } finally {
    await host.stop();
  }
  console.log(`load average after: ${loadAverage()}`);

  for (const [i, query] of measured.entries()) {
    const { sql, params } = statements[i]!;
    console.log(`\n${query.name}: GET ${query.path}`);
    console.log(`  SQL: ${sql}`);
    console.log(`  params: ${JSON.stringify(params)}`);
    for (const line of plans[i]!.lines) console.log(`  ${line}`);
  }
} finally {
  if (KEEP) {
    await database.close();
    console.log(`\nkept the database (BENCH_SEARCH_KEEP): ${database.url}`);
  } else await database.drop();
  await server.stop();
}
