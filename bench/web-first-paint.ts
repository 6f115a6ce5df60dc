/**
 * `npm run bench:web`: what the home page costs a buyer on a slow connection. The one-process
 * marketplace serves the built web client (built first when missing or stale) with eight tickets
 * for sale, its rate limits raised as for every benchmark (BENCH_LIMIT_SETTINGS); Debian's
 * Chromium (`CHROMIUM_PATH`, else /usr/bin/chromium), driven by playwright-core, opens the home
 * page in a fresh context each run (an empty cache), its network and CPU throttled through the
 * DevTools protocol (`Network.emulateNetworkConditions`, `Emulation.setCPUThrottlingRate`).
 *
 * Printed, per profile, the median of BENCH_WEB_RUNS (5) loads: the bytes that crossed the wire
 * for the page (as sent: compressed when the server compresses) by kind, the scripts and styles
 * as decoded, and the first paint, the first contentful paint and the moment the ticket list shows
 * (all from navigation start, as the page's own clock measures it).
 *
 * Profiles: "slow" is 150 ms round trip, 1.6 Mbps down, 750 kbps up, CPU 4 times slower (what
 * Lighthouse calls slow 4G); "unthrottled" is the loopback as it is, for the bytes alone.
 *
 * Knobs: BENCH_WEB_RUNS, CHROMIUM_PATH, DATABASE_URL or TEST_DATABASE_URL (a PostgreSQL server;
 * else an embedded one, thrown away afterwards).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createLogger } from '@ticketing/common';
import { authSettingsFromEnv } from '@ticketing/auth';
import { startMarketplace } from '@ticketing/marketplace';
import { machine, median, table } from './lib/measure.ts';
import {
  BENCH_LIMIT_SETTINGS,
  benchCeiling,
  dropDatabasesStartingWith,
  runId,
  startPostgres,
} from './lib/systems.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH as CHROMIUM } from '../e2e/chromium.ts';

const RUNS = Number(process.env.BENCH_WEB_RUNS ?? 5);

interface Profile {
  name: string;
  /** Network.emulateNetworkConditions; absent: none. */
  network?: { latency: number; downloadThroughput: number; uploadThroughput: number };
  cpu: number;
}

const PROFILES: Profile[] = [
  {
    name: 'slow (150 ms RTT, 1.6 Mbps, CPU ×4)',
    // Bytes per second; the latency is added to each request's round trip.
    network: {
      latency: 150,
      downloadThroughput: (1.6 * 1024 * 1024) / 8,
      uploadThroughput: (750 * 1024) / 8,
    },
    cpu: 4,
  },
  { name: 'unthrottled', cpu: 1 },
];

interface Load {
  /** Encoded bytes by resource kind (document, script, stylesheet, fetch, image, ...). */
  wire: Record<string, number>;
  /** Decoded bytes of the scripts and styles. */
  decodedJsCss: number;
  firstPaint: number;
  firstContentfulPaint: number;
  ticketsShown: number;
}

async function loadHome(browser: Browser, url: string, profile: Profile): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    if (profile.network)
      await cdp.send('Network.emulateNetworkConditions', { offline: false, ...profile.network });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });

    const kinds = new Map<string, string>();
    const wire: Record<string, number> = {};
    let decodedJsCss = 0;
    cdp.on('Network.responseReceived', (event) => kinds.set(event.requestId, event.type.toLowerCase()));
    cdp.on('Network.dataReceived', (event) => {
      const kind = kinds.get(event.requestId);
      if (kind === 'script' || kind === 'stylesheet') decodedJsCss += event.dataLength;
    });
    cdp.on('Network.loadingFinished', (event) => {
      const kind = kinds.get(event.requestId) ?? 'other';
      wire[kind] = (wire[kind] ?? 0) + event.encodedDataLength;
    });

    await page.goto(url, { waitUntil: 'commit' });
    // The ticket list drawn: the page's purpose, not just its frame.
    await page.locator('.ticket-grid a').first().waitFor({ timeout: 60_000 });
    const ticketsShown = await page.evaluate(() => performance.now());
    await page.waitForLoadState('networkidle');
    // (A string: this runs in the page, whose performance timeline has paint entries.)
    const paints = await page.evaluate<Record<string, number>>(
      `Object.fromEntries(performance.getEntriesByType('paint').map((entry) => [entry.name, entry.startTime]))`,
    );
    return {
      wire,
      decodedJsCss,
      firstPaint: paints['first-paint'] ?? Number.NaN,
      firstContentfulPaint: paints['first-contentful-paint'] ?? Number.NaN,
      ticketsShown,
    };
  } finally {
    await context.close();
  }
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (value: number) => `${Math.round(value)} ms`;

if (!existsSync(CHROMIUM)) {
  console.error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}

const postgres = await startPostgres();
const prefix = `bench_web_${runId()}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ticketing-bench-web-'));
const marketplace = await startMarketplace({
  logger: createLogger('bench-web', { level: 'warn' }),
  jwtKey: 'bench-web-jwt-key-0123456789-0123456789',
  secureCookies: false,
  port: 0,
  host: '127.0.0.1',
  databaseUrl: postgres.url,
  dataDir,
  databasePrefix: prefix,
  natsStream: 'UNUSED',
  orderExpirationSeconds: 900,
  // The benchmarks' raised limits, as the other benchmarks set them.
  ceiling: benchCeiling(),
  auth: authSettingsFromEnv({ ...process.env, ...BENCH_LIMIT_SETTINGS }),
  web: true,
});
let browser: Browser | undefined;
try {
  // Eight tickets for sale, as in the README's picture of the home page.
  const signUp = await fetch(`${marketplace.url}/api/users/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `seller-${prefix}@example.test`, password: 'correct horse battery' }),
  });
  const cookie = signUp.headers.get('set-cookie')?.split(';')[0] ?? '';
  for (let index = 1; index <= 8; index++) {
    const listed = await fetch(`${marketplace.url}/api/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ title: `Concert number ${index}`, price: 20 + index }),
    });
    if (listed.status !== 201) throw new Error(`listing a ticket answered ${listed.status}`);
  }

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  console.log(`web first paint: the home page, median of ${RUNS} cold loads`);
  console.log(`machine: ${machine()}; Chromium ${browser.version()}\n`);
  for (const profile of PROFILES) {
    await loadHome(browser, `${marketplace.url}/`, profile); // warm the server, not the browser
    const loads: Load[] = [];
    for (let run = 0; run < RUNS; run++) loads.push(await loadHome(browser, `${marketplace.url}/`, profile));
    const kinds = [...new Set(loads.flatMap((load) => Object.keys(load.wire)))].sort();
    const total = (load: Load) => Object.values(load.wire).reduce((sum, bytes) => sum + bytes, 0);
    console.log(`${profile.name}:`);
    console.log(
      table(
        ['measure', 'median'],
        [
          ...kinds.map((kind) => [
            `wire bytes: ${kind}`,
            kb(median(loads.map((load) => load.wire[kind] ?? 0))),
          ]),
          ['wire bytes: total', kb(median(loads.map(total)))],
          ['scripts and styles, decoded', kb(median(loads.map((load) => load.decodedJsCss)))],
          ['first paint', ms(median(loads.map((load) => load.firstPaint)))],
          ['first contentful paint', ms(median(loads.map((load) => load.firstContentfulPaint)))],
          ['ticket list shown', ms(median(loads.map((load) => load.ticketsShown)))],
        ],
      ),
    );
    console.log('');
  }
} finally {
  await browser?.close();
  await marketplace.stop();
  await dropDatabasesStartingWith(postgres.url, `${prefix}_`);
  await postgres.stop();
  await rm(dataDir, { recursive: true, force: true });
}
