/**
 * Fault injection, on real engines, while a workload of orders, payments, updates and
 * cancellations runs against the scale-out mode (2 replicas per service):
 * - kill -9 a replica of each service in turn, and start it again;
 * - stop the NATS server for several seconds;
 * - restart PostgreSQL;
 * - publish a malformed event and events for unknown entities.
 * Each ends with the consistency checker finding no difference once the system is quiet, which
 * also means no ticket reserved twice and no order charged twice.
 *
 * The tests start their own NATS server (the machine's nats-server binary, own port and store
 * directory) and their own PostgreSQL (embedded, own port), so stopping them never disturbs the
 * machine's services. They run where `NATS_URL` is set (CI) and a nats-server binary exists.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamTransport, makeEvent, startEmbeddedPostgres, type EmbeddedServer } from '@ticketing/common';
import { silentLogger, sleep, waitFor } from '@ticketing/common/testing';
import { freePort, SERVICES, startCluster, type Cluster } from '../src/cluster.ts';
import { checkTargetsOf, type CheckTargets } from '../src/check-consistency.ts';
import { expectConverged } from './converge.ts';
import { startWorkload } from '../src/workload.ts';

const NATS_BINARY = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(
  existsSync,
);
const enabled = Boolean(process.env.NATS_URL && NATS_BINARY);
if (!enabled) {
  console.warn(
    'Fault-injection tests skipped: they need NATS_URL set (as on CI) and a nats-server binary to start their own server',
  );
}

class NatsServer {
  private child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly storeDir: string,
  ) {}
  get url() {
    return `nats://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = spawn(
      NATS_BINARY!,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        const transport = await JetStreamTransport.connect({
          servers: this.url,
          stream: 'PROBE',
          logger: silentLogger,
        }).catch(() => undefined);
        if (!transport) return false;
        await transport.destroy();
        await transport.close();
        return true;
      },
      20_000,
      200,
    );
  }
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

describe.runIf(enabled)('fault injection: 2 replicas per service, own NATS and PostgreSQL', () => {
  let tmp: string;
  let nats: NatsServer;
  let postgres: EmbeddedServer;
  let pgPort: number;
  let cluster: Cluster;
  let targets: CheckTargets;
  const root = fileURLToPath(new URL('../../..', import.meta.url));

  const startPostgres = async () => {
    postgres = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'postgres'), port: pgPort });
  };
  const everyReplica = () => SERVICES.flatMap((s) => cluster.replicas[s]);
  const allReady = async (ready: boolean) =>
    (await Promise.all(everyReplica().map((r) => r.readyz()))).every((state) => state === ready);
  const converge = () => expectConverged(targets, { deadLetters: 'allowed' });

  beforeAll(async () => {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/build-services.ts'], {
      cwd: root,
    });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ticketing-faults-'));
    await chmod(tmp, 0o755); // as root, Postgres runs as the postgres user, who must reach its data directory
    nats = new NatsServer(await freePort(), path.join(tmp, 'nats'));
    await nats.start();
    pgPort = await freePort();
    await startPostgres();
    cluster = await startCluster({
      logger: silentLogger,
      port: 0,
      replicas: 2,
      databaseUrl: postgres.url,
      databasePrefix: 'faults',
      natsUrl: nats.url,
      natsStream: 'FAULTS',
      jwtKey: 'fault-injection-jwt-key-0123456789abcdef',
      orderExpirationSeconds: 4,
      env: {
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
        NODE_ENV: 'test',
        // The workload signs up its users and sends thousands of requests from 127.0.0.1.
        RATE_LIMIT_MAX: '1000000',
        SIGNUP_LIMIT_MAX: '10000',
        SIGNIN_ADDRESS_LIMIT_MAX: '10000',
      },
      output: process.env.TEST_LOG_LEVEL ? 'prefixed' : 'ignore',
    });
    await cluster.waitUntilReady(120_000);
    targets = checkTargetsOf(cluster.databaseUrls);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await nats?.stop();
    await postgres?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 60_000);

  it('loses nothing when a replica of each service is killed with SIGKILL in turn and restarted', async () => {
    const workload = await startWorkload(cluster.url);
    for (const service of SERVICES) {
      await sleep(1_000);
      const victim = cluster.replicas[service][0]!;
      await victim.kill('SIGKILL');
      await sleep(500);
      victim.start();
      await cluster.waitUntilReady(60_000);
    }
    await sleep(1_000);
    const stats = await workload.stop();
    expect(stats.ordersCreated).toBeGreaterThan(10);
    expect(stats.payments).toBeGreaterThan(0);
    expect(stats.updates).toBeGreaterThan(0);
    const report = await converge();
    expect(report.counts.orders).toBeGreaterThanOrEqual(stats.ordersCreated);
  }, 300_000);

  it('loses nothing in a rolling restart: every replica stopped with SIGTERM in turn, under load', async () => {
    const workload = await startWorkload(cluster.url);
    await sleep(1_000);
    for (const replica of everyReplica()) {
      const started = Date.now();
      await replica.kill('SIGTERM'); // graceful: drains requests, listeners and the outbox relay
      expect(Date.now() - started).toBeLessThan(15_000); // the shutdown bound
      expect(replica.process?.exitCode).toBe(0);
      replica.start();
      await cluster.waitUntilReady(60_000);
    }
    const stats = await workload.stop();
    expect(stats.ordersCreated).toBeGreaterThan(0);
    await converge();
  }, 300_000);

  it('loses nothing while NATS is down for several seconds, and /readyz says not ready meanwhile', async () => {
    const workload = await startWorkload(cluster.url);
    await sleep(1_500);
    await nats.stop();
    await waitFor(() => allReady(false), 15_000, 100);
    await sleep(4_000);
    await nats.start();
    await waitFor(() => allReady(true), 60_000, 200);
    await sleep(1_500);
    const stats = await workload.stop();
    expect(stats.ordersCreated).toBeGreaterThan(0);
    await converge();
  }, 300_000);

  it('loses nothing while PostgreSQL restarts, and /readyz says not ready meanwhile', async () => {
    const workload = await startWorkload(cluster.url);
    await sleep(1_500);
    await postgres.stop();
    await waitFor(() => allReady(false), 15_000, 100);
    await sleep(4_000);
    await startPostgres();
    await waitFor(() => allReady(true), 60_000, 200);
    await sleep(1_500);
    const stats = await workload.stop();
    expect(stats.ordersCreated).toBeGreaterThan(0);
    await converge();
  }, 300_000);

  it('dead-letters a malformed event and events about unknown entities, with reasons, while the rest flows', async () => {
    const transport = await JetStreamTransport.connect({
      servers: nats.url,
      stream: 'FAULTS',
      logger: silentLogger,
    });
    try {
      const workload = await startWorkload(cluster.url, { ticketsPerSeller: 5 });
      const malformed = {
        id: randomUUID(),
        type: 'ticket:updated',
        occurredAt: new Date().toISOString(),
        data: { price: 'free' },
      };
      const unknownOrder = makeEvent('expiration:complete', { orderId: randomUUID() });
      const unknownPayment = makeEvent('payment:created', {
        id: randomUUID(),
        orderId: randomUUID(),
        providerChargeId: 'ch_x',
      });
      await transport.publish('ticket:updated', malformed.id, malformed);
      await transport.publish('expiration:complete', unknownOrder.id, unknownOrder);
      await transport.publish('payment:created', unknownPayment.id, unknownPayment);
      await sleep(3_000);
      const stats = await workload.stop();
      expect(stats.ordersCreated).toBeGreaterThan(0);

      const report = await converge();
      const letters = report.deadLetters.filter((d) => d.database === 'orders');
      expect(letters).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            type: 'ticket:updated',
            reason: expect.stringMatching(/invalid ticket:updated payload/),
          }),
          expect.objectContaining({
            type: 'expiration:complete',
            reason: expect.stringMatching(/unknown order/),
          }),
          expect.objectContaining({
            type: 'payment:created',
            reason: expect.stringMatching(/unknown order/),
          }),
        ]),
      );
      expect(letters).toHaveLength(3); // nothing else was given up on
    } finally {
      await transport.close();
    }
  }, 300_000);
});
