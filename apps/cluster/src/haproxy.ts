/**
 * HAProxy in front of the services: the scale-out mode's entry (`startHaproxyEntry`) and the
 * multi-host bed's (`hosts/bed.ts`) run the configuration `haproxyConfig` writes.
 *
 * The configuration is static. A path prefix picks the service (`ROUTES`), and HAProxy checks
 * every replica's `/readyz` itself (every 500 ms; two failures take a replica out, one success
 * brings it back), so nothing is rewritten or reloaded while replicas come and go. A request whose
 * replica refused the connection (it just died, before the checks noticed) is tried again on
 * another. The answers HAProxy gives itself (no such route, no replica to send to, a replica that
 * failed, `/healthz`) are in the API's error shape, with the security headers the services give
 * theirs; those it forwards keep their own.
 *
 * The supervisor knows one thing the checks cannot: that it is about to stop a replica that still
 * answers. The entry then puts that replica in drain through HAProxy's runtime API (an
 * administrative state, not a configuration change) and waits until HAProxy sends it nothing more;
 * once the supervisor sees the replica ready again, it is set ready again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BARE_ANSWER_HEADERS, freePort, type Logger } from '@ticketing/common';
import type { Entry, EntryOptions } from './entry.ts';
import { DOCS_PREFIX, ROUTES } from './routes.ts';
import { tiedToSupervisor } from './tied.ts';

const HAPROXY_PATHS = [
  '/usr/sbin/haproxy',
  '/usr/bin/haproxy',
  '/usr/local/sbin/haproxy',
  '/usr/local/bin/haproxy',
];

/** The HAProxy binary to use: `HAPROXY_BINARY`, else the usual install paths; undefined if none. */
export function findHaproxy(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return (env.HAPROXY_BINARY ? [env.HAPROXY_BINARY] : HAPROXY_PATHS).find((file) => existsSync(file));
}

export interface HaproxyBackend {
  /** The service. */
  name: string;
  /** Its replicas: a name (unique in the backend) and `address:port`. */
  servers: { name: string; address: string }[];
}

export interface HaproxyOptions {
  /** Where the entry listens: `address:port`, or `:port` for every address. */
  bind: string;
  backends: HaproxyBackend[];
  /** The statistics page (`/stats`, `/stats;csv`), if any: `address:port`. */
  statsBind?: string;
  /** The runtime API's socket (statistics, administrative states), if any. */
  adminSocket?: string;
  /** The supervisor's site (API documentation, web client), if any: `address:port`. */
  site?: string;
}

/** `address:port` for HAProxy's `bind` and `server` lines. */
export const haproxyAddress = (host: string, port: number): string =>
  host.includes(':') ? `ipv6@${host}:${port}` : `${host}:${port}`;

const quoted = (text: string) => `"${text.replace(/["\\]/g, '\\$&')}"`;
/** The security headers of an answer HAProxy gives itself, as arguments of its `return` or `http-error`. */
const OWN_HEADERS = BARE_ANSWER_HEADERS.map(([name, value]) => `hdr ${name} ${quoted(value)}`).join(' ');
const JSON_TYPE = 'content-type "application/json; charset=utf-8"';
const answer = (body: object) => `${JSON_TYPE} string '${JSON.stringify(body)}' ${OWN_HEADERS}`;
const errorAnswer = (message: string) => answer({ errors: [{ message }] });
/** An answer HAProxy makes in place of one it could not get (`http-error`). */
const httpError = (status: number, message: string) =>
  `  http-error status ${status} ${errorAnswer(message)}`;

/** The whole haproxy.cfg. */
export function haproxyConfig(options: HaproxyOptions): string {
  const lines = [
    'global',
    '  maxconn 4096',
    // Headers up to 32 KiB reach the services, which answer those over their own limit 431 in
    // the API's shape; beyond, HAProxy answers 400.
    '  tune.bufsize 32768',
    // A stop lets the requests in flight finish, within this.
    '  hard-stop-after 5s',
    ...(options.adminSocket ? [`  stats socket ${options.adminSocket} mode 600 level admin`] : []),
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-request 30s',
    '  timeout check 2s',
    '  # A request whose replica refused the connection is tried again, on another.',
    '  retries 2',
    '  option redispatch 1',
    "  # The client's address after any a client wrote: the replicas trust one hop.",
    '  option forwardfor',
    httpError(408, 'Request took too long to arrive'),
    httpError(502, 'The service did not answer'),
    httpError(503, 'The service is unavailable'),
    httpError(504, 'The service did not answer in time'),
    'frontend entry',
    `  bind ${options.bind}`,
    `  http-request return status 200 ${answer({ status: 'ok' })} if { path /healthz }`,
    ...ROUTES.filter(([, service]) => options.backends.some((backend) => backend.name === service)).map(
      ([prefix, service]) => `  use_backend ${service} if { path ${prefix} } || { path_beg ${prefix}/ }`,
    ),
    // The API documentation and every path outside /api go to the site; any other /api path no
    // service owns is a 404.
    ...(options.site
      ? [
          `  use_backend site if { path ${DOCS_PREFIX} } || { path_beg ${DOCS_PREFIX}/ }`,
          '  use_backend not-found if { path /api } || { path_beg /api/ }',
          '  default_backend site',
        ]
      : ['  default_backend not-found']),
    ...(options.statsBind
      ? ['frontend stats', `  bind ${options.statsBind}`, '  stats enable', '  stats uri /stats']
      : []),
    'backend not-found',
    `  http-request return status 404 ${errorAnswer('Not found')}`,
  ];
  if (options.site)
    lines.push(
      'backend site',
      httpError(502, 'The web service did not answer'),
      httpError(503, 'The web service is unavailable'),
      httpError(504, 'The web service did not answer in time'),
      `  server site ${options.site}`,
    );
  for (const backend of options.backends) {
    const service = backend.name;
    lines.push(
      `backend ${service}`,
      '  balance roundrobin',
      '  option httpchk GET /readyz',
      '  default-server inter 500ms fall 2 rise 1',
      httpError(502, `The ${service} service did not answer`),
      httpError(503, `The ${service} service is unavailable`),
      httpError(504, `The ${service} service did not answer in time`),
      ...backend.servers.map((server) => `  server ${server.name} ${server.address} check`),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The servers HAProxy sends requests to (its checks pass, not drained), as `backend/server`, from its statistics CSV. */
export function serversUp(csv: string): Set<string> {
  const up = new Set<string>();
  for (const line of csv.split('\n')) {
    const [backend, server, ...rest] = line.split(',');
    // The 18th column (index 17) is the status: UP, UP 1/2 (going down), DOWN, DRAIN, MAINT...
    if (server && server !== 'BACKEND' && server !== 'FRONTEND' && rest[15]?.startsWith('UP'))
      up.add(`${backend}/${server}`);
  }
  return up;
}

/** `serversUp` from a statistics page (`http://host:port/stats`); undefined if it does not answer. */
export async function fetchServersUp(statsUrl: string): Promise<Set<string> | undefined> {
  try {
    const response = await fetch(`${statsUrl};csv`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? serversUp(await response.text()) : undefined;
  } catch {
    return undefined;
  }
}

/** Commands to the runtime API (`;`-separated), and its answer; rejects if it cannot be reached. */
export function haproxyCommand(socket: string, commands: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const connection = net.createConnection(socket, () => connection.end(`${commands}\n`));
    connection.setEncoding('utf8');
    connection.setTimeout(2_000, () =>
      connection.destroy(new Error('the HAProxy runtime API did not answer')),
    );
    connection.on('data', (chunk: string) => (output += chunk));
    connection.on('end', () => resolve(output));
    connection.on('error', reject);
  });
}

export async function startHaproxyEntry(binary: string, options: EntryOptions): Promise<Entry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ticketing-haproxy-'));
  const port = options.port || (await freePort());
  const adminSocket = path.join(dir, 'admin.sock');
  const configFile = path.join(dir, 'haproxy.cfg');
  const routed = new Set(ROUTES.map(([, service]) => service));
  await writeFile(
    configFile,
    haproxyConfig({
      bind: haproxyAddress(options.host ?? '127.0.0.1', port),
      adminSocket,
      site: options.site && haproxyAddress('127.0.0.1', options.site.port),
      backends: [...routed].map((service) => ({
        name: service,
        servers: options.replicas[service].map((replica) => ({
          name: replica.name,
          address: haproxyAddress('127.0.0.1', replica.port),
        })),
      })),
    }),
  );
  const entry = new HaproxyEntry(binary, dir, configFile, adminSocket, port, options);
  try {
    entry.start();
    await entry.settled();
  } catch (error) {
    await entry.close();
    throw error;
  }
  return entry;
}

class HaproxyEntry implements Entry {
  readonly kind = 'haproxy';
  private readonly log: Logger;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stderr = '';
  private closing = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Each server's administrative state as last set (`drain` or `ready`); unknown: not set yet. */
  private readonly adminStates = new Map<string, string>();
  private applying: Promise<void> = Promise.resolve();
  /** On the supervisor's exit, however it exits: take HAProxy down with it. */
  private readonly onExit = () => this.child?.kill('SIGKILL');

  constructor(
    private readonly binary: string,
    private readonly dir: string,
    readonly configFile: string,
    private readonly adminSocket: string,
    readonly port: number,
    private readonly options: EntryOptions,
  ) {
    this.log = options.logger.child({ component: 'haproxy' });
    process.once('exit', this.onExit);
  }

  start(): void {
    this.adminStates.clear(); // a new process starts with every server ready
    const child = spawn(...tiedToSupervisor(this.binary, ['-f', this.configFile, '-db']), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderr = (this.stderr + text).slice(-4_000);
      // Its notices (version, paths), its warnings (a server going down or up, as its checks
      // see it), and its alerts (a backend with no server left, a configuration it refuses).
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const level = line.includes('[NOTICE]') ? 'debug' : line.includes('[WARNING]') ? 'info' : 'warn';
        this.log[level](line.trim());
      }
    });
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.log.error({ err: error, binary: this.binary }, 'could not run haproxy');
        resolve();
      });
      child.once('exit', () => resolve());
    });
    void this.exited.then(() => {
      if (this.closing || this.child !== child) return;
      this.log.error({ code: child.exitCode, signal: child.signalCode }, 'haproxy exited; starting it again');
      this.restartTimer = setTimeout(() => this.restart(), 1_000);
    });
  }

  private restart(): void {
    if (this.closing) return;
    try {
      this.start();
      this.update();
    } catch (error) {
      this.log.error({ err: error }, 'could not start haproxy again; trying again in 1 s');
      this.restartTimer = setTimeout(() => this.restart(), 1_000);
    }
  }

  pids(): number[] {
    return this.running() ? [this.child!.pid!] : [];
  }

  /**
   * A replica the supervisor has taken out (it is stopping it, or its own polls fail) is drained,
   * one it sees ready again set ready; HAProxy's checks decide the rest.
   */
  update(): void {
    if (this.closing || !this.running()) return;
    const changes: [server: string, state: string][] = [];
    for (const [, service] of ROUTES)
      for (const replica of this.options.replicas[service]) {
        const server = `${service}/${replica.name}`;
        const state = replica.healthy ? 'ready' : 'drain';
        if (this.adminStates.get(server) !== state) changes.push([server, state]);
      }
    if (changes.length === 0) return;
    for (const [server, state] of changes) this.adminStates.set(server, state);
    const commands = changes.map(([server, state]) => `set server ${server} state ${state}`).join(';');
    this.applying = this.applying.then(() =>
      haproxyCommand(this.adminSocket, commands).then(
        (output) => {
          if (output.trim()) this.log.warn({ commands, output: output.trim() }, 'haproxy refused a state');
        },
        (error: unknown) => {
          // Unknown again: sent at the next update.
          for (const [server] of changes) this.adminStates.delete(server);
          this.log.warn(
            { err: error },
            'could not reach the HAProxy runtime API; trying again at the next update',
          );
        },
      ),
    );
  }

  /** Until HAProxy sends requests to exactly the replicas the supervisor has healthy. */
  async settled(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let differences = 'no answer from its runtime API';
    for (;;) {
      if (this.closing) return;
      await this.applying;
      const up = await haproxyCommand(this.adminSocket, 'show stat').then(serversUp, () => undefined);
      if (up) {
        const wrong = ROUTES.flatMap(([, service]) =>
          this.options.replicas[service]
            .filter((replica) => up.has(`${service}/${replica.name}`) !== replica.healthy)
            .map((replica) => `${replica.name} ${replica.healthy ? 'not up' : 'still up'}`),
        );
        if (wrong.length === 0) return;
        differences = wrong.join(', ');
        this.update(); // (states lost to a restart of HAProxy)
      }
      if (Date.now() > deadline)
        throw new Error(
          `haproxy does not route as the supervisor sees the replicas (${differences})${this.stderr.trim() ? `: ${this.stderr.trim()}` : ''}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    process.removeListener('exit', this.onExit);
    if (this.running()) {
      this.child!.kill('SIGUSR1'); // graceful: requests in flight finish (hard-stop-after bounds it)
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), 8_000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private running(): boolean {
    return this.child?.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
}
