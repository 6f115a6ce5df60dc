/**
 * The marketplace spread over hosts on one machine (see `network.ts`), as it would run on a
 * Kubernetes cluster of several nodes:
 *
 *   nats-1, nats-2, nats-3  10.88.0.11-13  one JetStream cluster (the manifests' own nats.conf),
 *                                           the stream at three replicas (or one, to compare)
 *   db                      10.88.0.20     PostgreSQL, one database per service
 *   svc-1, svc-2, ...       10.88.0.31...  one replica of every service on each host
 *   entry                   10.88.0.40     HAProxy: routes by path, checks every replica's /readyz
 *   client                  10.88.0.50     where the outside world comes in (see `forward.ts`)
 *
 * Services reach NATS through all three seeds (`NATS_URL=nats://10.88.0.11:4222,...`) and the
 * database by its host's address, exactly as they would reach `nats` and `postgres` Services. The
 * caller (a test, a benchmark) stays outside the hosts: it talks to the entry, the database and the
 * NATS monitoring ports through local ports forwarded from the client host, and asks each replica
 * whether it is ready from its own host, as a kubelet does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseUrl, serverUser, type ServerUser } from '@ticketing/common';
import { SERVICES, type ServiceName } from '../cluster.ts';
import { fetchServersUp, findHaproxy, haproxyConfig } from '../haproxy.ts';
import { ROUTES } from '../routes.ts';
import { tiedToSupervisor } from '../tied.ts';
import { Forwarder } from './forward.ts';
import { hostsUnavailable, Network, type Host } from './network.ts';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const NATS_BINARY = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find(
  existsSync,
);
const HAPROXY_BINARY = findHaproxy();
/** Debian's PostgreSQL server binaries (the package the machine's own server comes from). */
const POSTGRES_BIN = ['17', '16', '15']
  .map((version) => `/usr/lib/postgresql/${version}/bin`)
  .find((dir) => existsSync(path.join(dir, 'postgres')));

/** Each service listens on the same port on every host, as a container port would. */
export const SERVICE_PORTS: Record<ServiceName, number> = {
  auth: 4001,
  tickets: 4002,
  orders: 4003,
  expiration: 4004,
  payments: 4005,
};
/** The services the entry routes to (expiration has no public routes). */
const ROUTED = new Set(ROUTES.map(([, service]) => service));
const ENTRY_PORT = 80;
/** HAProxy's statistics (which replicas its checks have up), on the entry host only. */
const ENTRY_STATS_PORT = 8404;
const NATS_CLIENT_PORT = 4222;
const NATS_MONITOR_PORT = 8222;
const POSTGRES_PORT = 5432;

/** Why the bed cannot be built here, or undefined when it can. */
export async function bedUnavailable(): Promise<string | undefined> {
  const hosts = await hostsUnavailable();
  if (hosts) return hosts;
  if (!NATS_BINARY) return 'no nats-server binary (Debian package nats-server)';
  if (!HAPROXY_BINARY) return 'no haproxy binary (Debian package haproxy)';
  if (!POSTGRES_BIN) return "no PostgreSQL server binaries under /usr/lib/postgresql (Debian's postgresql)";
  return undefined;
}

export type Output = 'ignore' | 'prefixed';

/**
 * A long-running process on a host, which can be killed and started again. With `restart`, one
 * that exits by itself (not through `stop`) is started again a second later, as an orchestrator
 * restarts a pod: a service that could not start (its broker's cluster still electing leaders, say)
 * exits and is restarted.
 */
export class HostProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    readonly name: string,
    readonly host: Host,
    private readonly command: () => [string, string[]],
    private readonly options: {
      env?: NodeJS.ProcessEnv;
      output: Output;
      stopSignal?: NodeJS.Signals;
      restart?: boolean;
    },
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stopped on purpose (through `stop`), not merely exited. */
  get stopped(): boolean {
    return this.stopping;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  start(): void {
    if (this.running) return;
    const [command, args] = this.command();
    const output = this.options.output === 'prefixed' ? 'pipe' : 'ignore';
    const child = spawn(command, args, {
      cwd: ROOT,
      env: this.options.env ?? process.env,
      stdio: ['ignore', output, output],
    });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n'))
          if (line) process.stdout.write(`[${this.name}@${this.host.name}] ${line}\n`);
      });
    }
    this.child = child;
    this.stopping = false;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        resolve();
        if (this.options.restart && !this.stopping)
          setTimeout(() => {
            if (!this.stopping && this.child === child) this.start();
          }, 1_000);
      }),
    );
  }

  /** Sends `signal` (the process's own stop signal by default) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = this.options.stopSignal ?? 'SIGTERM'): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    this.child!.kill(signal);
    await this.exited;
  }
}

export interface BedOptions {
  /** Where the bed keeps its files (NATS stores, the database cluster, configurations). */
  dir: string;
  /** Hosts that run services: one replica of each service on each (default 2). */
  serviceHosts?: number;
  /** The stream's replicas (default 3: one copy on every NATS node). */
  streamReplicas?: number;
  /** Extra environment for every replica. */
  env?: Record<string, string>;
  output?: Output;
}

export interface Replica {
  readonly service: ServiceName;
  readonly process: HostProcess;
  readonly host: Host;
  /** Whether its `/readyz` answers 200, asked on its own host. */
  ready(): Promise<boolean>;
  /** What its `/readyz` answers (for messages). */
  readiness(): Promise<string>;
}

export class Bed {
  readonly natsNodes: HostProcess[] = [];
  readonly replicas: Record<ServiceName, Replica[]> = {
    auth: [],
    tickets: [],
    orders: [],
    expiration: [],
    payments: [],
  };
  postgres!: HostProcess;
  entry!: HostProcess;
  /** The entry, as the outside world reaches it. */
  url = '';
  /** Each service's database, as the outside world reaches it (for the consistency checker). */
  readonly databaseUrls = {} as Record<ServiceName, string>;
  readonly hosts = {} as { nats: Host[]; db: Host; services: Host[]; entry: Host; client: Host };
  private statsPort = 0;
  private readonly monitorPorts = new Map<string, number>();
  private readonly readinessPorts = new Map<Replica, number>();

  private constructor(
    readonly network: Network,
    private readonly forwarder: Forwarder,
    private readonly options: Required<BedOptions>,
  ) {}

  static async start(options: BedOptions): Promise<Bed> {
    const unavailable = await bedUnavailable();
    if (unavailable) throw new Error(`cannot build the hosts: ${unavailable}`);
    const network = await Network.create();
    const bed = new Bed(network, new Forwarder(network, options.dir), {
      serviceHosts: 2,
      streamReplicas: 3,
      env: {},
      output: 'ignore',
      ...options,
    });
    try {
      await bed.build();
      return bed;
    } catch (error) {
      await bed.stop();
      throw error;
    }
  }

  /** The NATS servers' addresses, all of which every client is given. */
  get natsUrl(): string {
    return this.hosts.nats.map((host) => `nats://${host.address}:${NATS_CLIENT_PORT}`).join(',');
  }

  private async build(): Promise<void> {
    const { network, options } = this;
    this.hosts.nats = [];
    for (let i = 1; i <= 3; i++) this.hosts.nats.push(await network.addHost(`nats-${i}`, 10 + i));
    this.hosts.db = await network.addHost('db', 20);
    this.hosts.services = [];
    for (let i = 1; i <= options.serviceHosts; i++)
      this.hosts.services.push(await network.addHost(`svc-${i}`, 30 + i));
    this.hosts.entry = await network.addHost('entry', 40);
    this.hosts.client = await network.addHost('client', 50);
    const client = this.hosts.client;

    await this.startNats();
    await this.startPostgres();
    const postgresPort = await this.forwarder.forward(client, this.hosts.db.address, POSTGRES_PORT);
    for (const service of SERVICES) {
      this.databaseUrls[service] = `postgres://postgres@127.0.0.1:${postgresPort}/hosts_${service}`;
    }
    await this.createDatabases();
    this.startReplicas();
    await this.startEntry();
    this.url = `http://127.0.0.1:${await this.forwarder.forward(client, this.hosts.entry.address, ENTRY_PORT)}`;
    this.statsPort = await this.forwarder.forward(client, this.hosts.entry.address, ENTRY_STATS_PORT);
    for (const [i, host] of this.hosts.nats.entries()) {
      this.monitorPorts.set(
        this.natsNodes[i]!.name,
        await this.forwarder.forward(client, host.address, NATS_MONITOR_PORT),
      );
    }
    for (const replica of SERVICES.flatMap((service) => this.replicas[service])) {
      this.readinessPorts.set(
        replica,
        await this.forwarder.forward(replica.host, '127.0.0.1', SERVICE_PORTS[replica.service]),
      );
    }
  }

  /** Three nodes, configured by the Kubernetes manifests' own nats.conf. */
  private async startNats(): Promise<void> {
    const template = await natsConfigFromManifest();
    const routes = this.hosts.nats.map((host) => `nats://${host.address}:6222`);
    for (const [i, host] of this.hosts.nats.entries()) {
      const name = `nats-${i + 1}`;
      const store = path.join(this.options.dir, name);
      await mkdir(store, { recursive: true });
      const config = path.join(this.options.dir, `${name}.conf`);
      await writeFile(
        config,
        template
          .replace('$SERVER_NAME', name)
          .replace(/store_dir: \S+/, `store_dir: "${store}"`)
          .replace(/pid_file: \S+/, `pid_file: "${store}.pid"`)
          .replace(
            /routes: \[[^\]]*\]/,
            `routes: [\n${routes.map((route) => `    ${route}`).join('\n')}\n  ]`,
          ),
      );
      const node = new HostProcess(
        name,
        host,
        () => tiedToSupervisor(...this.network.on(host, NATS_BINARY!, ['--config', config])),
        { output: this.options.output },
      );
      node.start();
      this.natsNodes.push(node);
    }
  }

  /** Whether every NATS node that runs is up and the stream has a leader and all its replicas current. */
  async natsHealthy(): Promise<boolean> {
    const info = await this.streamInfo();
    if (!info?.leader) return false;
    const followers = info.replicas.filter((replica) => replica.current && !replica.offline);
    return followers.length + 1 >= this.options.streamReplicas;
  }

  /**
   * The stream's leader and replicas, as the leader itself reports them (a follower's view of the
   * other replicas is not kept up to date), from the nodes' monitoring endpoints.
   */
  async streamInfo(): Promise<StreamCluster | undefined> {
    const views = await Promise.all(
      this.natsNodes
        .filter((node) => node.running)
        .map(async (node) => {
          try {
            const response = await fetch(
              `http://127.0.0.1:${this.monitorPorts.get(node.name)}/jsz?streams=true`,
              {
                signal: AbortSignal.timeout(1_000),
              },
            );
            const jsz = (await response.json()) as Jsz;
            const stream = jsz.account_details
              ?.flatMap((account) => account.stream_detail ?? [])
              .find((detail) => detail.name === STREAM);
            return stream?.cluster?.leader === node.name ? stream.cluster : undefined;
          } catch {
            return undefined; // this node does not answer
          }
        }),
    );
    const view = views.find(Boolean);
    return view && { leader: view.leader, replicas: view.replicas ?? [] };
  }

  /** The node by its server name. */
  natsNode(name: string): HostProcess {
    const node = this.natsNodes.find((n) => n.name === name);
    if (!node) throw new Error(`no NATS node ${name}`);
    return node;
  }

  private async startPostgres(): Promise<void> {
    const user = await serverUser();
    const dataDir = path.join(this.options.dir, 'postgres');
    await mkdir(dataDir, { recursive: true });
    await chmod(this.options.dir, 0o755);
    if (user) await chown(dataDir, user.uid, user.gid);
    await chmod(dataDir, 0o700);
    await runAs(user, path.join(POSTGRES_BIN!, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    // Every host of the network may connect (the network is the bed's own).
    await writeFile(
      path.join(dataDir, 'pg_hba.conf'),
      'local all all trust\nhost all all 10.88.0.0/24 trust\nhost all all 127.0.0.1/32 trust\n',
    );
    const host = this.hosts.db;
    const postgres = path.join(POSTGRES_BIN!, 'postgres');
    const args = [
      '-D',
      dataDir,
      '-c',
      'listen_addresses=*',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=off',
    ];
    this.postgres = new HostProcess(
      'postgres',
      host,
      () => {
        const [command, onHost] = this.network.on(host, postgres, args);
        // ip netns exec runs as root; the server then drops to the postgres user (it refuses root).
        const asUser = user
          ? [
              '/usr/bin/setpriv',
              `--reuid=${user.uid}`,
              `--regid=${user.gid}`,
              '--init-groups',
              '--pdeathsig',
              'INT',
              '--',
            ]
          : [];
        return [command, [...onHost.slice(0, 3), ...asUser, ...onHost.slice(3)]];
      },
      { output: this.options.output, stopSignal: 'SIGINT' },
    );
    this.postgres.start();
  }

  private async createDatabases(): Promise<void> {
    const pg = (await import('pg')).default;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const client = new pg.Client({ connectionString: databaseUrl(this.databaseUrls.auth, 'postgres') });
      try {
        await client.connect();
        for (const service of SERVICES) await client.query(`create database hosts_${service}`);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        await client.end().catch(() => {});
      }
    }
  }

  private startReplicas(): void {
    for (const service of SERVICES) {
      for (const host of this.hosts.services) {
        const bundle = path.join(ROOT, `services/${service}/dist/main.js`);
        const args = existsSync(bundle) ? [bundle] : ['--import', 'tsx', `services/${service}/src/main.ts`];
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          // HAProxy appends the client's address to X-Forwarded-For: one hop to trust.
          TRUST_PROXY: '1',
          NODE_ENV: 'test',
          ...this.options.env,
          PORT: String(SERVICE_PORTS[service]),
          HOST: '0.0.0.0',
          DATABASE_URL: `postgres://postgres@${this.hosts.db.address}:${POSTGRES_PORT}/hosts_${service}`,
          NATS_URL: this.natsUrl,
          NATS_STREAM: STREAM,
          NATS_STREAM_REPLICAS: String(this.options.streamReplicas),
        };
        delete env.METRICS_PORT;
        const process_ = new HostProcess(
          `${service}`,
          host,
          () => tiedToSupervisor(...this.network.on(host, process.execPath, args)),
          { env, output: this.options.output, restart: true },
        );
        /** What the replica's `/readyz` answers, asked on its own host. */
        const askReadyz = async (): Promise<{ ok: boolean; text: string }> => {
          try {
            const response = await fetch(`http://127.0.0.1:${this.readinessPorts.get(replica)}/readyz`, {
              signal: AbortSignal.timeout(2_000),
            });
            return { ok: response.ok, text: `${response.status} ${await response.text()}` };
          } catch (error) {
            return { ok: false, text: String(error) };
          }
        };
        const replica: Replica = {
          service,
          process: process_,
          host,
          readiness: async () => (await askReadyz()).text,
          ready: async () => process_.running && (await askReadyz()).ok,
        };
        this.replicas[service].push(replica);
      }
    }
    // The first host's replicas migrate their databases; the others follow.
    for (const service of SERVICES) this.replicas[service][0]!.process.start();
    for (const service of SERVICES)
      for (const replica of this.replicas[service].slice(1)) replica.process.start();
  }

  /** Every replica, by host then service. */
  everyReplica(): Replica[] {
    return SERVICES.flatMap((service) => this.replicas[service]);
  }

  /** Waits until every running replica is ready and the entry routes to it. */
  async waitUntilReady(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Every replica not stopped on purpose: one that exited by itself is on its way back.
      const running = this.everyReplica().filter((replica) => !replica.process.stopped);
      const states = await Promise.all(running.map((replica) => replica.ready()));
      if (states.every(Boolean) && (await this.entryRoutesToAll())) return;
      if (Date.now() > deadline) {
        const waiting = await Promise.all(
          running
            .filter((_, i) => !states[i])
            .map(async (r) => `${r.service}@${r.host.name} (${await r.readiness()})`),
        );
        throw new Error(`not ready after ${timeoutMs} ms: ${waiting.join(', ') || 'the entry'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Whether HAProxy's own checks see every running replica up. */
  async entryRoutesToAll(): Promise<boolean> {
    const up = await fetchServersUp(`http://127.0.0.1:${this.statsPort}/stats`);
    if (!up) return false;
    return this.everyReplica()
      .filter((replica) => !replica.process.stopped && ROUTED.has(replica.service))
      .every((replica) => up.has(`${replica.service}/${replica.host.name}`));
  }

  private async startEntry(): Promise<void> {
    const config = path.join(this.options.dir, 'haproxy.cfg');
    await writeFile(
      config,
      haproxyConfig({
        bind: `:${ENTRY_PORT}`,
        statsBind: `:${ENTRY_STATS_PORT}`,
        backends: SERVICES.filter((service) => ROUTED.has(service)).map((service) => ({
          name: service,
          servers: this.hosts.services.map((host) => ({
            name: host.name,
            address: `${host.address}:${SERVICE_PORTS[service]}`,
          })),
        })),
      }),
    );
    const host = this.hosts.entry;
    this.entry = new HostProcess(
      'haproxy',
      host,
      () => tiedToSupervisor(...this.network.on(host, HAPROXY_BINARY!, ['-f', config, '-db'])),
      { output: this.options.output, stopSignal: 'SIGUSR1' },
    );
    this.entry.start();
  }

  async stop(): Promise<void> {
    const replicas = this.everyReplica().map((replica) => replica.process);
    await Promise.all([...replicas, this.entry].filter(Boolean).map((p) => p.stop().catch(() => {})));
    await Promise.all(
      [...this.natsNodes, this.postgres].filter(Boolean).map((p) => p.stop().catch(() => {})),
    );
    await this.forwarder.close();
    await this.network.destroy();
  }
}

/** The stream's name in the bed. */
export const STREAM = 'HOSTS';

interface StreamCluster {
  leader?: string;
  replicas: { name: string; current: boolean; offline?: boolean; lag?: number }[];
}
interface Jsz {
  account_details?: {
    stream_detail?: { name: string; cluster?: { leader?: string; replicas?: StreamCluster['replicas'] } }[];
  }[];
}

/** The NATS configuration of the Kubernetes manifests (`infra/k8s/base/nats.yaml`). */
export async function natsConfigFromManifest(): Promise<string> {
  const manifest = await readFile(path.join(ROOT, 'infra/k8s/base/nats.yaml'), 'utf8');
  const block = /nats\.conf: \|\n((?: {4}.*\n|\n)+)/.exec(manifest)?.[1];
  if (!block) throw new Error('infra/k8s/base/nats.yaml has no nats.conf');
  const config = block.replace(/^ {4}/gm, '');
  for (const part of ['$SERVER_NAME', 'store_dir:', 'pid_file:', 'routes: ['])
    if (!config.includes(part)) throw new Error(`the manifests' nats.conf has no ${part}`);
  return config;
}

async function runAs(user: ServerUser | undefined, command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, {
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { LC_MESSAGES: 'C', PATH: process.env.PATH },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${path.basename(command)} failed (${code}): ${stderr.trim()}`);
}
