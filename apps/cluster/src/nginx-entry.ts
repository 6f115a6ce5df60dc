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
 * replica.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@ticketing/common';
import type { Replica, ServiceName } from './cluster.ts';
import { ROUTES, type Entry, type EntryOptions } from './entry.ts';

const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'];

/** The nginx binary to use: `NGINX_BINARY`, else the usual install paths; undefined if none. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return (env.NGINX_BINARY ? [env.NGINX_BINARY] : NGINX_PATHS).find((file) => existsSync(file));
}

export interface NginxLayout {
  /** nginx's prefix: its pid file and temp directories. */
  dir: string;
  host: string;
  port: number;
  controlPort: number;
  generation: number;
}

export type Upstreams = Partial<Record<ServiceName, { port: number; healthy: boolean }[]>>;

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
    return `  upstream ${service} {\n${servers.join('\n')}\n    keepalive 64;\n    keepalive_requests 1000000;\n  }`;
  });
  const locations = ROUTES.map(
    ([prefix, service]) =>
      `    location ~ ^${prefix}(/|$) {\n      set $service ${service};\n      proxy_pass http://${service};\n    }`,
  );
  return `# Written by apps/cluster/src/nginx-entry.ts (generation ${layout.generation}); rewritten and
# reloaded whenever a replica's health changes.
worker_processes 1;
# Workers replaced by a reload finish their requests in flight within this.
worker_shutdown_timeout 10s;
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
  default_type application/json;

  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $host;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  proxy_set_header X-Forwarded-Proto $scheme;
  proxy_connect_timeout 2s;
  # A refused connection, or a 503 from a replica shutting down, is tried on the next replica
  # (nginx never repeats a POST it has already sent).
  proxy_next_upstream error timeout http_503;

${upstreamBlocks.join('\n')}

  server {
    listen ${layout.host}:${layout.port};
${locations.join('\n')}
    location = /healthz {
      return 200 ${json('{"status":"ok"}')};
    }
    location / {
      return 404 ${json('{"errors":[{"message":"Not found"}]}')};
    }
    # No replica to send to, or the one sent to failed: nginx's own 502/504, in the API's shape.
    error_page 502 504 = @unavailable;
    location @unavailable {
      return 503 ${json('{"errors":[{"message":"The $service service is unavailable"}]}')};
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
  const log = options.logger.child({ component: 'nginx' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ticketing-nginx-'));
  const layout: NginxLayout = {
    dir,
    host: options.host ?? '127.0.0.1',
    port: options.port || (await freePort()),
    controlPort: await freePort(),
    generation: 0,
  };
  const configFile = path.join(dir, 'nginx.conf');
  let applied = '';
  const write = (): boolean => {
    const upstreams: Upstreams = {};
    for (const [, service] of ROUTES)
      upstreams[service] = options.replicas[service].map((r: Replica) => ({
        port: r.port,
        healthy: r.healthy,
      }));
    const health = JSON.stringify(upstreams);
    if (health === applied) return false;
    applied = health;
    layout.generation += 1;
    writeFileSync(configFile, nginxConfig(layout, upstreams));
    return true;
  };
  write();

  const child = spawn(binary, ['-p', dir, '-c', configFile, '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderr = (stderr + text).slice(-4_000);
    for (const line of text.split('\n')) if (line.trim()) log.warn(line.trim());
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let closing = false;
  void exited.then(() => {
    if (!closing) log.error({ code: child.exitCode, signal: child.signalCode }, 'nginx exited');
  });

  const generation = () =>
    new Promise<string | undefined>((resolve) => {
      // A new connection each time: a kept-alive one would stay with a worker being replaced.
      const request = http.get(
        { host: '127.0.0.1', port: layout.controlPort, path: '/generation', agent: false, timeout: 1_000 },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve(body));
          response.on('error', () => resolve(undefined));
        },
      );
      request.on('error', () => resolve(undefined));
      request.on('timeout', () => request.destroy());
    });

  const workers = (): number[] | undefined => {
    try {
      const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8');
      return children.split(' ').filter(Boolean).map(Number);
    } catch {
      return undefined; // no /proc: the generation alone has to do
    }
  };
  const settled = async (timeoutMs = 15_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while ((await generation()) !== String(layout.generation) || (workers()?.length ?? 1) > 1) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`nginx did not load generation ${layout.generation}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    await settled();
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  log.info({ port: layout.port, binary }, 'nginx entry started');

  return {
    kind: 'nginx',
    port: layout.port,
    pids: () => (child.pid ? [child.pid, ...(workers() ?? [])] : []),
    update() {
      if (closing || child.exitCode !== null) return;
      if (write()) child.kill('SIGHUP');
    },
    settled: () => settled(),
    async close() {
      closing = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT'); // graceful: finish the requests in flight
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
