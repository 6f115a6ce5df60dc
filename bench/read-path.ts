/**
 * `npm run bench:read`: the read path. `GET /api/tickets/:id` and a 20-item page
 * `GET /api/tickets?limit=20` at a fixed concurrency (BENCH_READ_CONNECTIONS, 32) for
 * BENCH_READ_SECONDS (10) each, with autocannon, through the cluster's entry and directly
 * against one tickets replica, beside a bare `node:http` server (its own process) answering the
 * same bytes from memory. Ratio = service ÷ bare (aim ≥ 0.5). Where the entry is HAProxy, also the
 * bare server behind an HAProxy configured as the cluster's: the entry's hop alone, which bounds
 * what any service behind it can reach.
 *
 * The targets take turns: BENCH_READ_ROUNDS (5) rounds of SECONDS ÷ rounds each, bare first in
 * every round, and the ratio is the median of the rounds' ratios. On this VM the speed of the
 * machine drifts by a third within a minute; measured one after the other for 10 s each, the same
 * code came out anywhere between 0.41 and 0.59 of the bare server.
 *
 * BENCH_READ_REPLICAS (1) replicas per service: the machine has 2 cores, and more processes only
 * share them.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from '../apps/cluster/src/cluster.ts';
import type { Entry } from '../apps/cluster/src/entry.ts';
import { findHaproxy, startHaproxyEntry } from '../apps/cluster/src/haproxy.ts';
import { Client, createTickets } from './lib/client.ts';
import { fmt, intFromEnv, median, sleep, table } from './lib/measure.ts';
import { logger, startBenchCluster } from './lib/systems.ts';

const CONNECTIONS = intFromEnv('BENCH_READ_CONNECTIONS', 32);
const SECONDS = intFromEnv('BENCH_READ_SECONDS', 10);
const REPLICAS = intFromEnv('BENCH_READ_REPLICAS', 1);
const ROUNDS = intFromEnv('BENCH_READ_ROUNDS', 5);

export interface ReadRow {
  endpoint: string;
  target: string;
  /** The bare server itself, the bare server behind the entry, or the service. */
  role: 'bare' | 'bare behind the entry' | 'service';
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  ratio: number;
}

/** A bare node:http server in its own process answering `body` to every request. */
async function startBare(body: string): Promise<{ port: number; url: string; stop(): void }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const body = Buffer.from(process.env.BODY);
       require('node:http').createServer((req, res) => {
         res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
         res.end(body);
       }).listen(${port}, '127.0.0.1', () => console.log('ready'));`,
    ],
    { env: { ...process.env, BODY: body }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`bare server exited ${code}`)));
  });
  return { port, url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/**
 * An HAProxy entry configured as the cluster's (the same `haproxyConfig`), whose tickets backend
 * is the bare server (which answers its `/readyz` checks too): what the entry's hop alone costs,
 * the most a service behind it could reach.
 */
async function startBareBehindHaproxy(bare: { port: number; url: string }): Promise<Entry> {
  const upstream = { name: 'bare-1', port: bare.port, url: bare.url, healthy: true };
  return startHaproxyEntry(findHaproxy()!, {
    port: 0,
    replicas: { auth: [], tickets: [upstream], orders: [], payments: [], expiration: [] },
    logger,
  });
}

async function load(url: string, seconds: number) {
  return autocannon({ url, connections: CONNECTIONS, duration: seconds });
}

export async function runReadPath(): Promise<ReadRow[]> {
  console.log(
    `\n== 1. Read path: ${CONNECTIONS} connections, ${SECONDS} s each in ${ROUNDS} turns, ${REPLICAS} replica(s) per service ==`,
  );
  const bench = await startBenchCluster(REPLICAS);
  const rows: ReadRow[] = [];
  try {
    const cluster = bench;
    const { jwtKey } = bench;
    const client = new Client(cluster.url, 16);
    const tickets = await createTickets(client, jwtKey, 200, 4, 16);
    client.close();
    const id = tickets[100]!.id;
    const endpoints = [
      { name: 'GET /api/tickets/:id', path: `/api/tickets/${id}` },
      { name: 'GET /api/tickets?limit=20', path: '/api/tickets?limit=20' },
    ];
    for (const endpoint of endpoints) {
      const body = await (await fetch(cluster.url + endpoint.path)).text();
      const bare = await startBare(body);
      let bareEntry: Entry | undefined;
      try {
        // Only HAProxy runs in a process of its own; the Node gateway would share this one's loop.
        if (bench.entry.kind === 'haproxy') bareEntry = await startBareBehindHaproxy(bare);
        const targets: { name: string; role: ReadRow['role']; url: string }[] = [
          { name: 'bare node:http', role: 'bare', url: bare.url + endpoint.path },
          ...(bareEntry
            ? [
                {
                  name: 'entry (haproxy) → bare node:http',
                  role: 'bare behind the entry' as const,
                  url: `http://127.0.0.1:${bareEntry.port}${endpoint.path}`,
                },
              ]
            : []),
          {
            name: `entry (${bench.entry.kind}) → tickets`,
            role: 'service',
            url: cluster.url + endpoint.path,
          },
          { name: 'tickets replica', role: 'service', url: cluster.replicas.tickets[0]!.url + endpoint.path },
        ];
        for (const target of targets) await load(target.url, 1); // warm-up: JIT, connections, caches
        await sleep(200);
        const seconds = Math.max(1, Math.round(SECONDS / ROUNDS));
        const results = targets.map(() => [] as Awaited<ReturnType<typeof load>>[]);
        for (let round = 0; round < ROUNDS; round += 1) {
          for (const [i, target] of targets.entries()) results[i]!.push(await load(target.url, seconds));
        }
        const rpsOf = (r: Awaited<ReturnType<typeof load>>) => r.requests.total / r.duration;
        for (const [i, target] of targets.entries()) {
          const runs = results[i]!;
          const rps =
            runs.reduce((sum, r) => sum + r.requests.total, 0) / runs.reduce((sum, r) => sum + r.duration, 0);
          const row: ReadRow = {
            endpoint: endpoint.name,
            target: target.name,
            role: target.role,
            rps,
            p50: median(runs.map((r) => r.latency.p50)),
            p99: median(runs.map((r) => r.latency.p99)),
            non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
            errors: runs.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
            ratio: median(runs.map((r, round) => rpsOf(r) / rpsOf(results[0]![round]!))),
          };
          rows.push(row);
          console.log(
            `  ${row.endpoint} via ${row.target}: ${fmt(rps, 0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms; ` +
              `by round ${runs.map((r) => fmt(rpsOf(r), 0)).join(' / ')}`,
          );
        }
      } finally {
        try {
          await bareEntry?.close();
        } finally {
          bare.stop();
        }
      }
    }
  } finally {
    await bench.close();
  }
  console.log('');
  console.log(
    table(
      [
        'endpoint / target',
        'req/s',
        'p50 ms',
        'p99 ms',
        'non-2xx',
        'errors',
        'ratio vs bare (median of rounds)',
      ],
      rows.map((r) => [
        `${r.endpoint} — ${r.target}`,
        fmt(r.rps, 0),
        String(r.p50),
        String(r.p99),
        String(r.non2xx),
        String(r.errors),
        fmt(r.ratio, 2),
      ]),
    ),
  );
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await runReadPath();
}
