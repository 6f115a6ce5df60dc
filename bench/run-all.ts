/**
 * `npm run bench`: the cluster benchmarks in order — read path, on-sale rush (with memory),
 * replication lag and convergence — each printing its own figures and ceiling, then a summary.
 * The system under test is `startCluster` (run `npm run build:services` first so replicas start
 * from their bundles) on the machine's Postgres (DATABASE_URL) and NATS JetStream (NATS_URL).
 */
import { fmt, loadAverage as load, machine, table } from './lib/measure.ts';
import { DATABASE_URL, NATS_URL } from './lib/systems.ts';
import { runReadPath } from './read-path.ts';
import { runRush } from './rush.ts';
import { runReplication } from './replication.ts';

const started = performance.now();
console.log(`machine:  ${machine()}`);
console.log(
  `          load average before: ${load()} (1/5/15 min; Postgres, NATS, replicas and this process share the cores)`,
);
console.log(`postgres: ${DATABASE_URL}; nats: ${NATS_URL}`);

const read = await runReadPath();
const rush = await runRush();
const replication = await runReplication();

const rows: string[][] = [];
for (const r of read.filter((r) => r.role !== 'bare')) {
  const bare = read.find((b) => b.endpoint === r.endpoint && b.role === 'bare')!;
  const isBound = r.role === 'bare behind the entry';
  rows.push([
    `read ${r.endpoint} (${r.target})`,
    `${fmt(r.rps, 0)} req/s, p99 ${r.p99} ms`,
    `${fmt(bare.rps, 0)} req/s bare`,
    fmt(r.ratio, 2),
    isBound ? '' : '≥ 0.5',
    isBound ? "(the entry's own bound)" : r.ratio >= 0.5 ? 'met' : 'missed',
  ]);
}
const exact = rush.service.created === 1000 && rush.service.refused === 4000 && rush.service.other === 0;
rows.push([
  'rush POST /api/orders',
  `${fmt(rush.service.perSecond, 0)} req/s, p99 ${fmt(rush.service.p99, 0)} ms`,
  `${fmt(rush.ceiling.perSecond, 0)} req/s pg`,
  fmt(rush.ratio, 2),
  '≥ 0.5',
  rush.ratio >= 0.5 ? 'met' : 'missed',
]);
rows.push([
  'rush outcome',
  `${rush.service.created}×201 ${rush.service.refused}×400 ${rush.service.other} other`,
  '1000×201 4000×400 0',
  '',
  'exact',
  exact ? 'met' : 'missed',
]);
for (const target of [...new Set(replication.lag.map((l) => l.target))]) {
  const service = replication.lag.find((l) => l.target === target && !l.name.startsWith('bare'))!;
  const bare = replication.lag.find((l) => l.target === target && l.name.startsWith('bare'))!;
  rows.push([
    `replication lag at ${target}/s`,
    `p50 ${fmt(service.p50, 0)} / p99 ${fmt(service.p99, 0)} ms @ ${fmt(service.achieved, 0)}/s`,
    `p99 ${fmt(bare.p99, 1)} ms bare JS`,
    '',
    target === 200 ? 'p99 < 50 ms' : '',
    target === 200 ? (service.p99 < 50 ? 'met' : 'missed') : '',
  ]);
}
rows.push([
  'convergence after burst',
  `${fmt(replication.convergenceMs, 0)} ms (${replication.burstWrites} writes)`,
  '',
  '',
  '< 1,000 ms',
  replication.convergenceMs < 1000 ? 'met' : 'missed',
]);
const maxRss = Math.max(...rush.memory.map((m) => m.afterRush));
rows.push(['memory (max RSS end of rush)', `${fmt(maxRss, 0)} MiB`, '', '', '', '']);

console.log('\n== Summary ==');
console.log(table(['benchmark', 'figure', 'ceiling', 'ratio', 'aim', ''], rows));
console.log(`\nload average after: ${load()}; total ${fmt((performance.now() - started) / 1000, 0)} s`);
