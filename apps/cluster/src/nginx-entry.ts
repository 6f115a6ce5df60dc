/**
 * The cluster's entry as an nginx process: the routes of `ROUTES` as `location`s, one `upstream`
 * per service listing its replicas, the unhealthy ones marked `down`. When the supervisor's poller
 * changes a replica's health, the configuration is written again and nginx reloads it (SIGHUP:
 * new workers take new connections, the old ones finish their requests and exit).
 *
 * Each configuration carries a generation number that nginx serves on a control port of its own.
 * `settled()` waits until a worker answers with the last one and the workers of earlier ones have
 * exited (until then they still serve the connections they hold).
 * Between two polls, nginx's own failover covers a replica that just died: a connection refused
 * (or a 503 from a replica shutting down, for requests that can be repeated) is tried on the next
 * replica, and the refusing one is skipped for a second.
 *
 * A reload closes the keep-alive connections that clients hold idle on the old workers, so
 * reloads happen only when health changes. nginx may refuse one (it cannot open the file: out of
 * descriptors, say) and go on with the configuration it has; the entry sees the old generation
 * on the control port and reloads again, waiting longer each time, until a worker answers with
 * the new one. No reload is sent before nginx first answers there: until then it may still be
 * reading its configuration, and a SIGHUP would end it. A configuration that could not be
 * written (the disk is full) is written at the next update.
 *
 * nginx runs in a process group of its own, which the supervisor takes down whole, on close and
 * on its own exit: workers outlive a killed master. If nginx dies anyway, the group is killed and
 * nginx started again, and again a second later if even that fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { BARE_ANSWER_HEADERS, clientErrorAnswer, freePort, type Logger } from '@ticketing/common';
import type { ServiceName } from './cluster.ts';
import type { Entry, EntryOptions } from './entry.ts';
import { DOCS_PREFIX, ROUTES } from './routes.ts';
import { tiedToSupervisor } from './tied.ts';

/** A reload nginx has not taken by then is sent again; the wait doubles each time, up to the max. */
const RELOAD_RETRY_MS = 1_000;
const RELOAD_RETRY_MAX_MS = 30_000;

const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'];

/** The nginx binary to use: `NGINX_BINARY`, else the usual install paths; undefined if none. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return (env.NGINX_BINARY ? [env.NGINX_BINARY] : NGINX_PATHS).find((file) => existsSync(file));
}

/**
 * The prefix directory (`-p`) of a running nginx master (Linux /proc), whose command line reads
 * "nginx: master process … -p <dir> …" once it has retitled itself; undefined if unreadable.
 */
export function nginxPrefix(masterPid: number): string | undefined {
  try {
    return /-p[\s\0]([^\s\0]+)/.exec(readFileSync(`/proc/${masterPid}/cmdline`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** The processes `pid` started that are still its children (Linux /proc); undefined if unreadable. */
export function childPids(pid: number): number[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return undefined;
  }
}

export interface NginxLayout {
  /** nginx's prefix: its pid file and temp directories. */
  dir: string;
  host: string;
  port: number;
  controlPort: number;
  generation: number;
  /** The supervisor's site (API documentation, web client), if any. */
  sitePort?: number;
}

export type Upstreams = Partial<Record<ServiceName, { port: number; healthy: boolean }[]>>;

/** The API's error shape, for the answers nginx gives itself. */
const errorBody = (message: string) => JSON.stringify({ errors: [{ message }] });
/**
 * The security headers of the answers nginx gives itself, as the services give theirs. Only in
 * the locations that answer: at server level they would be added to the forwarded answers too,
 * beside those answers' own.
 */
const ownHeaders = BARE_ANSWER_HEADERS.map(([name, value]) => `add_header ${name} "${value}" always;`).join(
  '\n      ',
);
const headersTooLarge = clientErrorAnswer('HPE_HEADER_OVERFLOW');

/** The whole nginx.conf for these replicas. */
export function nginxConfig(layout: NginxLayout, upstreams: Upstreams): string {
  const { dir } = layout;
  const json = (text: string) => `'${text.replace(/'/g, "\\'")}'`;
  const upstreamBlocks = ROUTES.map(([, service]) => {
    const servers = (upstreams[service] ?? []).map(
      (r) => `    server 127.0.0.1:${r.port} max_fails=1 fail_timeout=1s${r.healthy ? '' : ' down'};`,
    );
    // An upstream needs a server; a service with no replica at all has one that is down.
    if (servers.length === 0) servers.push('    server 127.0.0.1:9 down;');
    // Idle connections to a replica are closed before the replica's own keep-alive timeout (72 s).
    const keepalive = ['keepalive 64;', 'keepalive_requests 1000000;', 'keepalive_timeout 50s;'];
    return `  upstream ${service} {\n${[...servers, ...keepalive.map((line) => `    ${line}`)].join('\n')}\n  }`;
  });
  const locations = ROUTES.map(
    ([prefix, service]) =>
      `    location ~ ^${prefix}(/|$) {\n      set $service ${service};\n      proxy_pass http://${service};\n    }`,
  );
  const notFound = `${ownHeaders}\n      return 404 ${json(errorBody('Not found'))};`;
  const toSite = 'set $service web;\n      proxy_pass http://site;';
  // The API documentation and every path outside /api go to the site; any other /api path no
  // service owns is a 404 (a regex location of a service wins over the /api/ prefix).
  const siteBlocks =
    layout.sitePort === undefined
      ? { upstream: '', locations: `    location / {\n      ${notFound}\n    }` }
      : {
          upstream: `  upstream site {\n    server 127.0.0.1:${layout.sitePort};\n    keepalive 8;\n  }\n`,
          locations: [
            `    location = ${DOCS_PREFIX} {\n      ${toSite}\n    }`,
            `    location ^~ ${DOCS_PREFIX}/ {\n      ${toSite}\n    }`,
            `    location = /api {\n      ${notFound}\n    }`,
            `    location /api/ {\n      ${notFound}\n    }`,
            `    location / {\n      ${toSite}\n    }`,
          ].join('\n'),
        };
  const listen = layout.host.includes(':') ? `[${layout.host}]` : layout.host;
  return `# Written by apps/cluster/src/nginx-entry.ts (generation ${layout.generation}); rewritten and
# reloaded whenever a replica's health changes.
worker_processes 1;
# Workers replaced by a reload finish their requests in flight within this.
worker_shutdown_timeout 5s;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr error;
events {
  worker_connections 4096;
}
http {
  access_log off;
  server_tokens off;
  # nginx closes a kept-alive connection after 1,000 requests by default, to clients and to the
  # replicas alike: a reconnection, and under load a request that fails, every second or so.
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  default_type "application/json; charset=utf-8";
  # The services refuse bodies over 64 KiB themselves, in the API's shape.
  client_max_body_size 1m;
  client_body_buffer_size 128k;

  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $http_host;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_connect_timeout 2s;
  # A refused connection, or a 503 from a replica shutting down, is tried on the next replica
  # (nginx never repeats a POST it has already sent).
  proxy_next_upstream error timeout http_503;

${upstreamBlocks.join('\n')}
${siteBlocks.upstream}
  server {
    listen ${listen}:${layout.port};
${locations.join('\n')}
    location = /healthz {
      ${ownHeaders}
      return 200 ${json('{"status":"ok"}')};
    }
${siteBlocks.locations}
    # nginx's own errors in the API's shape: no replica to send to, or the one sent to failed;
    # a body over client_max_body_size.
    error_page 502 504 = @unavailable;
    location @unavailable {
      ${ownHeaders}
      return 503 ${json(errorBody('The $service service is unavailable'))};
    }
    error_page 413 = @too_large;
    location @too_large {
      ${ownHeaders}
      return 413 ${json(errorBody('Request body is too large'))};
    }
    # A header line over large_client_header_buffers (nginx's 494), as the services and the Node
    # gateway answer headers over their limit (clientErrorAnswer). A request line nginx cannot
    # parse, or one too long (400, 414), keeps nginx's own page: redirecting those to a location
    # makes them a 500.
    error_page 494 = @headers_too_large;
    location @headers_too_large {
      ${ownHeaders}
      return ${headersTooLarge.status} ${json(errorBody(headersTooLarge.message))};
    }
  }

  # The supervisor's view of which configuration the workers run.
  server {
    listen 127.0.0.1:${layout.controlPort};
    location = /generation {
      return 200 '${layout.generation}';
    }
  }
}
`;
}

export async function startNginxEntry(binary: string, options: EntryOptions): Promise<Entry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ticketing-nginx-'));
  // Started as root, nginx runs its workers as nobody, and they keep request bodies and large
  // responses in temp directories under here.
  await chmod(dir, 0o711);
  const layout: NginxLayout = {
    dir,
    host: options.host ?? '127.0.0.1',
    port: options.port || (await freePort()),
    controlPort: await freePort(),
    generation: 0,
    sitePort: options.site?.port,
  };
  const entry = new NginxEntry(binary, layout, options);
  try {
    entry.start();
    await entry.settled();
  } catch (error) {
    await entry.close();
    throw error;
  }
  return entry;
}

class NginxEntry implements Entry {
  readonly kind = 'nginx';
  private readonly log: Logger;
  private readonly configFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private applied = '';
  private stderr = '';
  private closing = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The running nginx has answered on its control port: it takes signals now. */
  private answered = false;
  /** The last generation a worker answered with. */
  private loaded = 0;
  /** When the running nginx was last sent a reload (0: never). */
  private reloadSentAt = 0;
  private reloadRetryMs = RELOAD_RETRY_MS;
  private checking = false;
  /** Why the configuration could not be written, while it cannot (logged once, not at every poll). */
  private writeFailure: string | undefined;
  /** On the supervisor's exit, however it exits: take nginx down with it. */
  private readonly onExit = () => this.killGroup('SIGKILL');

  constructor(
    private readonly binary: string,
    private readonly layout: NginxLayout,
    private readonly options: EntryOptions,
  ) {
    this.log = options.logger.child({ component: 'nginx' });
    this.configFile = path.join(layout.dir, 'nginx.conf');
    process.once('exit', this.onExit);
  }

  get port(): number {
    return this.layout.port;
  }

  start(): void {
    this.write(true);
    this.answered = false;
    this.reloadSentAt = 0;
    this.reloadRetryMs = RELOAD_RETRY_MS;
    const nginxArgs = ['-p', this.layout.dir, '-c', this.configFile, '-e', 'stderr'];
    const child = spawn(...tiedToSupervisor(this.binary, nginxArgs), {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true, // a process group of its own (see killGroup)
    });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderr = (this.stderr + text).slice(-4_000);
      for (const line of text.split('\n')) if (line.trim()) this.log.warn(line.trim());
    });
    this.exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.log.error({ err: error, binary: this.binary }, 'could not run nginx');
        resolve();
      });
      child.once('exit', () => resolve());
    });
    void this.exited.then(() => {
      if (this.closing || this.child !== child) return;
      this.log.error({ code: child.exitCode, signal: child.signalCode }, 'nginx exited; starting it again');
      this.killGroup('SIGKILL', child); // its workers would go on serving the old configuration
      this.restartTimer = setTimeout(() => this.restart(), 1_000);
    });
  }

  private restart(): void {
    if (this.closing) return;
    try {
      this.start();
    } catch (error) {
      this.log.error({ err: error }, 'could not start nginx again; trying again in 1 s');
      this.restartTimer = setTimeout(() => this.restart(), 1_000);
    }
  }

  pids(): number[] {
    return this.child?.pid ? [this.child.pid, ...(this.workers() ?? [])] : [];
  }

  update(): void {
    if (this.closing || !this.running()) return;
    if (this.writeForUpdate()) {
      this.reloadRetryMs = RELOAD_RETRY_MS;
      // Before it answers, nginx may still be reading its configuration, and a SIGHUP then would
      // end it: `checkLoaded` sends the reload once it answers.
      if (this.answered) this.reload();
    }
    void this.checkLoaded();
  }

  /** `write()`, its failure logged when it begins or changes, and left to the next update. */
  private writeForUpdate(): boolean {
    try {
      const written = this.write();
      if (this.writeFailure !== undefined) this.log.info('the nginx configuration can be written again');
      this.writeFailure = undefined;
      return written;
    } catch (error) {
      if (String(error) !== this.writeFailure)
        this.log.error(
          { err: error },
          'could not write the nginx configuration; trying again at each update',
        );
      this.writeFailure = String(error);
      return false;
    }
  }

  /** Until the workers run this configuration or a later one, and no older worker is left. */
  async settled(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const wanted = this.layout.generation;
    // (No answer is NaN, which is not >= anything.)
    while (!(Number(await this.generation()) >= wanted) || (this.workers()?.length ?? 1) > 1) {
      if (this.closing) return;
      if (Date.now() > deadline)
        throw new Error(`nginx did not load configuration ${wanted}: ${this.stderr.trim() || 'no output'}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.restartTimer);
    process.removeListener('exit', this.onExit);
    if (this.running()) {
      this.child!.kill('SIGQUIT'); // graceful: the workers finish their requests in flight
      const timer = setTimeout(() => this.killGroup('SIGKILL'), 8_000); // > worker_shutdown_timeout
      await this.exited;
      clearTimeout(timer);
    }
    this.killGroup('SIGKILL'); // any worker left behind
    await rm(this.layout.dir, { recursive: true, force: true });
  }

  private reload(): void {
    this.child!.kill('SIGHUP');
    this.reloadSentAt = Date.now();
  }

  /**
   * Asks which configuration the workers run, if the last one written is not known to be loaded,
   * and reloads again if nginx answers with an older one: it did not take the reload (it said why
   * on stderr), or it was started before the configuration changed.
   */
  private async checkLoaded(): Promise<void> {
    const wanted = this.layout.generation;
    const sentAt = this.reloadSentAt;
    if (this.checking || this.loaded >= wanted) return;
    if (sentAt > 0 && Date.now() - sentAt < this.reloadRetryMs) return;
    this.checking = true;
    try {
      const answer = Number(await this.generation());
      // No answer: still starting, or gone (and started again when it exits).
      if (Number.isNaN(answer) || this.closing || !this.running()) return;
      // Written or reloaded meanwhile: the answer may predate that reload; the next check asks.
      if (this.layout.generation !== wanted || this.reloadSentAt !== sentAt) return;
      if (answer >= wanted) {
        this.loaded = answer; // (the wait starts afresh with the next configuration written)
        return;
      }
      if (sentAt > 0) {
        this.reloadRetryMs = Math.min(this.reloadRetryMs * 2, RELOAD_RETRY_MAX_MS);
        this.log.error(
          { wanted, running: answer, stderr: this.stderr.trim().split('\n').slice(-3).join('\n') },
          `nginx did not take the reload; reloading again, and checking again in ${this.reloadRetryMs} ms`,
        );
      }
      this.reload();
    } finally {
      this.checking = false;
    }
  }

  private running(): boolean {
    return this.child?.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Writes the configuration for the replicas' health now; false if it is the one applied. */
  private write(force = false): boolean {
    const upstreams: Upstreams = {};
    for (const [, service] of ROUTES)
      upstreams[service] = this.options.replicas[service].map((r) => ({
        port: r.port,
        healthy: r.healthy,
      }));
    const health = JSON.stringify(upstreams);
    if (health === this.applied && !force) return false;
    const layout = { ...this.layout, generation: this.layout.generation + 1 };
    // Whole or not at all: a master still reading the last one never sees half a file. If the
    // write fails (it throws), nothing is taken as applied, and the next update writes again.
    writeFileSync(`${this.configFile}.next`, nginxConfig(layout, upstreams));
    renameSync(`${this.configFile}.next`, this.configFile);
    this.layout.generation = layout.generation;
    this.applied = health;
    return true;
  }

  private killGroup(signal: NodeJS.Signals, child = this.child): void {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** nginx's workers; undefined without /proc (then the generation alone has to do). */
  private workers(): number[] | undefined {
    const pid = this.child?.pid;
    return pid ? childPids(pid) : [];
  }

  /** The configuration a worker answers with, on a new connection each time. */
  private generation(): Promise<string | undefined> {
    return new Promise((resolve) => {
      const request = http.get(
        {
          host: '127.0.0.1',
          port: this.layout.controlPort,
          path: '/generation',
          agent: false,
          timeout: 1_000,
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => {
            this.answered = true;
            resolve(body);
          });
          response.on('error', () => resolve(undefined));
        },
      );
      request.on('error', () => resolve(undefined));
      request.on('timeout', () => request.destroy());
    });
  }
}
