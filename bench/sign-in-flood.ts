/**
 * `npm run bench:signin`: how long a real user's sign-in takes, unloaded, then while another
 * address floods the sign-in route with guesses. The auth service runs as its own process (its
 * standalone `main`, on the machine's Postgres and NATS, with its default limits unless the
 * environment sets them), behind a pretend proxy: TRUST_PROXY=1, and every request says its client
 * in X-Forwarded-For, so that one load generator can be several addresses.
 *
 * The real user signs in BENCH_SIGNIN_SAMPLES (20) times, one after another, from one address;
 * then a process of its own opens BENCH_SIGNIN_FLOOD_CONNECTIONS (64) connections from another
 * address, sending wrong passwords for made-up accounts as fast as they are answered, and after a
 * second of that the real user signs in as many times again, from a third address. Aim: the flooded median within twice the unloaded
 * one. The flood's answers are counted by status: those refused (429) cost no scrypt.
 *
 * Knobs: DATABASE_URL, NATS_URL (the machine's), BENCH_SIGNIN_SAMPLES,
 * BENCH_SIGNIN_FLOOD_CONNECTIONS, and any setting of the service (SIGNIN_ADDRESS_LIMIT_MAX, ...),
 * passed on to it.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { databaseUrl, freePort } from '@ticketing/common';
import { cpuSecondsOf, fmt, intFromEnv, machineAndLoad, percentile, sleep, table } from './lib/measure.ts';
import { DATABASE_URL, deleteStream, dropDatabases, NATS_URL, runId } from './lib/systems.ts';

const SAMPLES = intFromEnv('BENCH_SIGNIN_SAMPLES', 20);
const FLOOD_CONNECTIONS = intFromEnv('BENCH_SIGNIN_FLOOD_CONNECTIONS', 64);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const id = runId();
const databaseName = `bench_signin_${id}`;
const database = databaseUrl(DATABASE_URL, databaseName);
const stream = `BENCH_SIGNIN_${id.toUpperCase()}`;
const port = await freePort();
const agent = new http.Agent({ keepAlive: true, maxSockets: FLOOD_CONNECTIONS + 4 });

/** POSTs `body` as the client at `address`; the status and the milliseconds it took. */
function post(path: string, body: unknown, address: string): Promise<{ status: number; ms: number }> {
  const payload = JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          'x-forwarded-for': address,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, ms: performance.now() - started }),
        );
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** The flooding process: wrong passwords for made-up accounts, from 203.0.113.7, until SIGTERM. */
const FLOOD = `
import http from 'node:http';
import { randomUUID } from 'node:crypto';
const connections = Number(process.env.CONNECTIONS);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const statuses = {};
let sent = 0;
let flooding = true;
const started = performance.now();
const send = () => new Promise((resolve) => {
  const payload = JSON.stringify({ email: 'guess-' + randomUUID() + '@example.test', password: 'wrong password' });
  const request = http.request({ host: '127.0.0.1', port: Number(process.env.PORT), method: 'POST',
    path: '/api/users/signin', agent, headers: { 'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload), 'x-forwarded-for': '203.0.113.7' } }, (response) => {
    response.resume();
    response.on('end', () => { sent++; statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1; resolve(); });
  });
  request.on('error', () => resolve());
  request.end(payload);
});
const loops = Array.from({ length: connections }, async () => { while (flooding) await send(); });
process.on('SIGTERM', async () => {
  flooding = false;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(loops);
  process.stdout.write(JSON.stringify({ sent, seconds, statuses }));
  process.exit(0);
});
`;

const service = spawn(process.execPath, ['--import', 'tsx', 'services/auth/src/main.ts'], {
  cwd: ROOT,
  env: {
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: database,
    NATS_URL,
    NATS_STREAM: stream,
    JWT_KEY: `bench-${randomUUID()}`,
    LOG_LEVEL: 'warn',
    TRUST_PROXY: '1',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});

try {
  for (const deadline = Date.now() + 60_000; ; await sleep(100)) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline || service.exitCode !== null) throw new Error('the auth service did not start');
  }
  console.log(machineAndLoad());
  const email = `owner-${id}@example.test`;
  const password = 'correct horse battery staple';
  const signedUp = await post('/api/users/signup', { email, password }, '198.51.100.1');
  if (signedUp.status !== 201) throw new Error(`sign-up: ${signedUp.status}`);

  const signIns = async (address: string) => {
    const times: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const { status, ms } = await post('/api/users/signin', { email, password }, address);
      if (status !== 200) throw new Error(`the owner's sign-in answered ${status}`);
      times.push(ms);
    }
    return times.sort((a, b) => a - b);
  };
  await signIns('198.51.100.9'); // warm-up: the first scrypt, V8 compiling the route
  const unloaded = await signIns('198.51.100.2');

  // The flood comes from a process of its own, as an attacker would: its event loop is not the one
  // timing the owner's sign-ins. It prints its counts when told to stop.
  const cpuBefore = cpuSecondsOf(service.pid);
  const flooder = spawn(process.execPath, ['--input-type=module', '-e', FLOOD], {
    env: { PORT: String(port), CONNECTIONS: String(FLOOD_CONNECTIONS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let report = '';
  flooder.stdout.on('data', (chunk: Buffer) => (report += chunk.toString()));
  const flooderExited = new Promise<void>((resolve) => flooder.once('exit', () => resolve()));
  await sleep(1_000);
  const flooded = await signIns('198.51.100.3');
  flooder.kill('SIGTERM');
  await flooderExited;
  const serviceCpu = cpuSecondsOf(service.pid) - cpuBefore;
  const {
    sent,
    seconds: floodSeconds,
    statuses,
  } = JSON.parse(report) as {
    sent: number;
    seconds: number;
    statuses: Record<string, number>;
  };

  const row = (name: string, times: number[]) => [
    name,
    fmt(percentile(times, 0.5)),
    fmt(times.reduce((a, b) => a + b, 0) / times.length),
    fmt(times[times.length - 1]!),
  ];
  console.log(
    table(
      ['sign-in of the real user', 'p50 ms', 'mean ms', 'max ms'],
      [row('unloaded', unloaded), row(`during the flood (${FLOOD_CONNECTIONS} connections)`, flooded)],
    ),
  );
  const ratio = percentile(flooded, 0.5) / percentile(unloaded, 0.5);
  console.log(`flooded p50 / unloaded p50: ${fmt(ratio, 2)} (aim ≤ 2: ${ratio <= 2 ? 'met' : 'missed'})`);
  console.log(
    `flood: ${sent} requests in ${fmt(floodSeconds)} s (${fmt(sent / floodSeconds, 0)}/s), by status: ${Object.entries(
      statuses,
    )
      .map(([status, count]) => `${status} × ${count}`)
      .join(', ')}; the service's CPU meanwhile ${fmt(serviceCpu, 2)} s (the owner's sign-ins included)`,
  );
} finally {
  agent.destroy();
  await new Promise<void>((resolve) => {
    if (service.exitCode !== null) return resolve();
    service.once('exit', () => resolve());
    service.kill('SIGTERM');
  });
  await dropDatabases(DATABASE_URL, [databaseName]);
  await deleteStream(NATS_URL, stream);
}
