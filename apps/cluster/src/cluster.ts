/**
 * Scale-out mode: each service as its own processes (their standalone `main`s), N replicas per
 * service, on real PostgreSQL and NATS JetStream, behind one HTTP entry that balances requests
 * across the healthy replicas of the service a path belongs to. The API documentation and the web
 * client come through the same entry, from the supervisor's site (`site.ts`).
 *
 * Replicas of a service share its database and its durable JetStream consumers, so each event is
 * handled by one replica. The supervisor is also the fault-injection handle used by the fault
 * tests and the benchmarks: kill, restart and stop replicas by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUrl, ensureDatabase, type HttpHardening, type Logger } from '@ticketing/common';
export { freePort } from '@ticketing/common';
import { freePort } from '@ticketing/common';
import { startEntry, type Entry, type EntryChoice } from './entry.ts';
import { startSite } from './site.ts';
import { tiedToSupervisor } from './tied.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export const SERVICES = ['auth', 'tickets', 'orders', 'expiration', 'payments'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ClusterOptions {
  logger: Logger;
  /** The entry's port; 0 picks a free one. */
  port: number;
  host?: string;
  /** The HTTP entry: HAProxy where installed (`auto`, the default), or the Node gateway. */
  entry?: EntryChoice;
  replicas: number;
  /** A Postgres server URL; each service gets `<prefix>_<service>` on it. */
  databaseUrl: string;
  databasePrefix: string;
  natsUrl: string;
  natsStream: string;
  jwtKey: string;
  orderExpirationSeconds: number;
  /** Extra environment for every replica (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
  /** Where replicas' output goes: inherited (prefixed lines) or discarded. */
  output?: 'prefixed' | 'ignore';
  /** The built web client (apps/web/dist) to serve at the paths outside `/api`; absent: none. */
  webDist?: string;
  /** The entry's and the site's timeouts, headers and documentation; development's by default. */
  hardening?: Partial<HttpHardening>;
}

export class Replica {
  process: ChildProcess | undefined;
  healthy = false;
  /** Consecutive failed /readyz checks; one slow answer under load does not eject a replica. */
  failedChecks = 0;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly service: ServiceName,
    readonly index: number,
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly output: 'prefixed' | 'ignore',
    /**
     * Told when this replica leaves the rotation, so the entry need not wait for the next poll;
     * resolves once the entry sends it nothing more.
     */
    private readonly left: () => Promise<void> = async () => {},
  ) {}

  get name(): string {
    return `${this.service}-${this.index}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(): void {
    // The bundle (npm run build:services) starts much faster than tsx transpiling the sources.
    const bundle = `services/${this.service}/dist/main.js`;
    const args = existsSync(path.join(ROOT, bundle))
      ? [bundle]
      : ['--import', 'tsx', `services/${this.service}/src/main.ts`];
    // REPLICA_NODE_ARGS: extra flags for node, for profiling (`--cpu-prof --cpu-prof-dir=/tmp/prof`).
    const nodeArgs = (process.env.REPLICA_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
    const child = spawn(...tiedToSupervisor(process.execPath, [...nodeArgs, ...args]), {
      cwd: ROOT,
      env: { ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: [
        'ignore',
        this.output === 'prefixed' ? 'pipe' : 'ignore',
        this.output === 'prefixed' ? 'pipe' : 'ignore',
      ],
    });
    if (this.output === 'prefixed') {
      for (const stream of [child.stdout, child.stderr]) {
        stream?.on('data', (chunk: Buffer) => {
          for (const line of chunk.toString().split('\n'))
            if (line) process.stdout.write(`[${this.name}] ${line}\n`);
        });
      }
    }
    this.process = child;
    this.healthy = false;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (this.process !== child) return;
      this.healthy = false;
      void this.left();
    });
  }

  /**
   * Sends `signal` and waits for the process to exit. A stop (SIGTERM, SIGINT) first takes the
   * replica out of the entry's rotation, so that no request reaches it while it closes; SIGKILL
   * is a crash, announced to nobody.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.healthy = false;
    if (signal !== 'SIGKILL') await this.left();
    child.kill(signal);
    await this.exited;
  }

  async readyz(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return response.ok;
    } catch {
      return false;
    }
  }
}

export interface Cluster {
  url: string;
  /** The HTTP entry: which one, and its processes (for CPU figures). */
  entry: Pick<Entry, 'kind' | 'pids'>;
  replicas: Record<ServiceName, Replica[]>;
  databaseUrls: Record<ServiceName, string>;
  /** Waits until every running replica answers /readyz and the entry routes to all of them. */
  waitUntilReady(timeoutMs?: number): Promise<void>;
  restart(replica: Replica): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const log = options.logger;
  const databaseUrls = {} as Record<ServiceName, string>;
  for (const service of SERVICES) {
    databaseUrls[service] = databaseUrl(options.databaseUrl, `${options.databasePrefix}_${service}`);
    await ensureDatabase(databaseUrls[service]);
  }

  const replicas = {} as Record<ServiceName, Replica[]>;
  // Replicas tell the entry when they leave the rotation (it routes to none until they are ready).
  const reroute = () => {
    try {
      entry.update();
    } catch (error) {
      log.error({ err: error }, 'could not update the entry');
    }
  };
  const left = async () => {
    reroute();
    await entry.settled().catch((error: unknown) => log.error({ err: error }, 'the entry did not settle'));
  };
  for (const service of SERVICES) {
    replicas[service] = [];
    for (let i = 1; i <= options.replicas; i++) {
      const env: NodeJS.ProcessEnv = {
        // Every request comes through the entry, which appends the client's address to
        // X-Forwarded-For: one hop to trust, unless set otherwise (a balancer in front of it).
        TRUST_PROXY: '1',
        ...process.env,
        ...options.env,
        // The site merges each service's document, which only the entry can reach (it sends
        // /api/docs to the site, never to a replica).
        API_DOCS: 'true',
        DATABASE_URL: databaseUrls[service],
        NATS_URL: options.natsUrl,
        NATS_STREAM: options.natsStream,
        JWT_KEY: options.jwtKey,
        ORDER_EXPIRATION_SECONDS: String(options.orderExpirationSeconds),
      };
      // One port cannot serve every replica's metrics; each serves its own on its loopback port
      // (outside production), which the entry never forwards to.
      delete env.METRICS_PORT;
      replicas[service].push(
        new Replica(service, i, await freePort(), env, options.output ?? 'prefixed', left),
      );
    }
  }
  // The site and the entry first, so that a cluster whose entry cannot start leaves no replica
  // behind.
  const site = await startSite({
    replicas,
    webDist: options.webDist,
    logger: log,
    hardening: options.hardening,
  });
  let entry: Entry;
  try {
    entry = await startEntry({
      kind: options.entry,
      port: options.port,
      host: options.host,
      replicas,
      site,
      hardening: options.hardening,
      logger: log,
    });
  } catch (error) {
    await site.close();
    throw error;
  }
  // The first replica of each service migrates its database; start those first so the others
  // do not all queue on the migration lock at once.
  for (const service of SERVICES) replicas[service][0]!.start();
  for (const service of SERVICES) for (const replica of replicas[service].slice(1)) replica.start();
  const url = `http://127.0.0.1:${entry.port}`;

  // Health: poll /readyz of every replica; a replica that exited leaves the rotation at the next
  // round (the entry tries another replica when one refuses a connection meanwhile).
  const all = () => SERVICES.flatMap((s) => replicas[s]);
  let polling = true;
  const poll = async () => {
    while (polling) {
      await Promise.all(
        all().map(async (replica) => {
          const alive = replica.process?.exitCode === null && replica.process.signalCode === null;
          if (!alive) {
            replica.healthy = false;
            return;
          }
          if (await replica.readyz()) {
            replica.failedChecks = 0;
            replica.healthy = true;
          } else if (++replica.failedChecks >= 3) {
            replica.healthy = false;
          }
        }),
      );
      reroute();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const polled = poll();

  const cluster: Cluster = {
    url,
    entry,
    replicas,
    databaseUrls,
    async waitUntilReady(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const running = all().filter((r) => r.process?.exitCode === null && r.process.signalCode === null);
        const states = await Promise.all(running.map((r) => r.readyz()));
        // The entry routes only to replicas its poller has seen ready, which can come a little later.
        if (running.length > 0 && states.every(Boolean) && running.every((r) => r.healthy)) {
          reroute();
          await entry.settled();
          return;
        }
        if (Date.now() > deadline) {
          const waiting = running.filter((_, i) => !states[i]).map((r) => r.name);
          throw new Error(`cluster not ready after ${timeoutMs} ms: ${waiting.join(', ')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async restart(replica) {
      await replica.kill('SIGTERM');
      replica.start();
    },
    async stop() {
      await entry.close();
      await site.close();
      polling = false;
      await polled;
      await Promise.all(all().map((replica) => replica.kill('SIGTERM')));
    },
  };
  return cluster;
}
