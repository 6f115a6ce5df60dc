/**
 * `npm start` as people run it: real processes (npm, node, the embedded PostgreSQL), several on one
 * machine, stopped the ways a terminal, `kill`, `timeout` or a supervisor stop them, and failing to
 * start the ways a first run does. Each marketplace runs on its own DATA_DIR made by mkdtemp (mode
 * 0700: as root, closed to the postgres user), with nothing else set, as `npm start` runs on a
 * fresh machine. The two data directories are initialised once, before the tests (initdb takes
 * seconds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { mkdtemp, readlink, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startEmbeddedPostgres, tiedToParent } from '@ticketing/common';
import { alive, childrenOf, processesWorkingIn, silentLogger, waitFor } from '@ticketing/common/testing';
import { ensureWebBuild } from '../apps/marketplace/src/web.ts';
import { DEFAULT_EMBEDDED_POSTGRES_PORT } from '../apps/marketplace/src/marketplace.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** How long a stopped marketplace may take to be gone, its PostgreSQL with it. */
const STOP_WITHIN_MS = 10_000;
/** A test that starts marketplaces: each start takes seconds (more on a busy machine). */
const STARTS = { timeout: 180_000 };

/** The environment of a fresh machine: no database, no broker, no port chosen. */
const environment = (() => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    npm_config_update_notifier: 'false', // npm's own notice would add lines to stderr
  };
  for (const name of [
    'DATABASE_URL',
    'TEST_DATABASE_URL',
    'NATS_URL',
    'EMBEDDED_POSTGRES_PORT',
    'LOG_PRETTY',
  ])
    delete env[name];
  return env;
})();

interface Running {
  child: ChildProcess;
  /** The marketplace's node process (under npm, known once it is ready). */
  nodePid: number | undefined;
  port: number;
  dataDir: string;
  exited: Promise<number | NodeJS.Signals>;
  output(): string;
  stderr(): string;
}

const launched: Running[] = [];

/** `npm start` (npm, then node in its place), or node running main.ts itself. */
function launch(
  via: 'npm' | 'node',
  options: { port: number; dataDir: string; env?: Record<string, string>; detached?: boolean },
): Running {
  // Tied to this process: should the test run die, what it started gets SIGTERM and stops.
  const [command, args] =
    via === 'npm'
      ? tiedToParent('npm', ['start'])
      : tiedToParent(process.execPath, ['--import', 'tsx', 'apps/marketplace/src/main.ts']);
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...environment, PORT: String(options.port), DATA_DIR: options.dataDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  const running: Running = {
    child,
    port: options.port,
    dataDir: options.dataDir,
    nodePid: via === 'node' ? child.pid : undefined,
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal!))),
    output: () => output,
    stderr: () => stderr,
  };
  launched.push(running);
  return running;
}

async function ready(running: Running): Promise<void> {
  await waitFor(
    async () => {
      if (running.child.exitCode !== null || running.child.signalCode !== null) {
        throw new Error(`the marketplace exited before it was ready:\n${running.output()}`);
      }
      return (await fetch(`http://127.0.0.1:${running.port}/readyz`)).ok;
    },
    120_000,
    100,
  );
  running.nodePid ??= onlyChild(running.child.pid!);
}

/** npm start execs node in place of its shell: npm's one child is the marketplace. */
function onlyChild(pid: number): number {
  const children = childrenOf(pid);
  expect(children).toHaveLength(1);
  return children[0]!;
}

const clusterOf = (dataDir: string) => realpathSync(path.join(dataDir, 'postgres'));

/** The embedded PostgreSQL's port, from its postmaster.pid. */
const postgresPort = (dataDir: string) =>
  Number(readFileSync(path.join(clusterOf(dataDir), 'postmaster.pid'), 'utf8').split('\n')[3]);

/** Waits until none of `pids` is alive and no process works in the data directory's cluster; the time it took. */
async function goneWithin(pids: number[], dataDir: string, since: number): Promise<number> {
  const cluster = clusterOf(dataDir);
  await waitFor(() => !pids.some(alive) && processesWorkingIn(cluster).length === 0, 30_000, 20);
  return Date.now() - since;
}

/** Holds `port` on 127.0.0.1, as another program would; undefined when something already does. */
async function hold(port: number): Promise<net.Server | undefined> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function signUp(running: Running): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${running.port}/api/users/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `first-run-${running.port}@example.com`, password: 'correct horse' }),
  });
  return response.status;
}

const dataDirs: string[] = [];

beforeAll(async () => {
  await ensureWebBuild(silentLogger); // once here, not in each process
  for (let i = 0; i < 2; i++) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ticketing-start-'));
    dataDirs.push(dataDir);
    const server = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres') });
    await server.stop();
  }
}, 120_000);

afterAll(async () => {
  // Whatever a failed test left running: npm, and the marketplace (its PostgreSQL goes with it).
  for (const running of launched) {
    for (const pid of [running.child.pid, running.nodePid])
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  for (const dataDir of dataDirs) {
    const link = path.join(dataDir, 'postgres');
    // As root, the cluster lives where the postgres user can reach it, linked from DATA_DIR.
    const target = await readlink(link).catch(() => undefined);
    await waitFor(() => processesWorkingIn(target ?? link).length === 0, 30_000).catch(() => {});
    if (target) await rm(target, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('two marketplaces on one machine, each on its own DATA_DIR', () => {
  let first: Running;
  let second: Running;
  let held: net.Server | undefined;

  beforeAll(async () => {
    // 54329 taken, as by a marketplace already running elsewhere on the machine.
    held = await hold(DEFAULT_EMBEDDED_POSTGRES_PORT);
  });
  afterAll(() => held?.close());

  it(
    'the second needs only another PORT: each embedded PostgreSQL finds a free port of its own',
    STARTS,
    async () => {
      first = launch('npm', { port: await freePort(), dataDir: dataDirs[0]! });
      second = launch('node', { port: await freePort(), dataDir: dataDirs[1]! });
      await Promise.all([ready(first), ready(second)]);
      const ports = [postgresPort(first.dataDir), postgresPort(second.dataDir)];
      expect(ports[0]).not.toBe(ports[1]);
      expect(ports).not.toContain(DEFAULT_EMBEDDED_POSTGRES_PORT);
      expect(await signUp(first)).toBe(201);
      expect(await signUp(second)).toBe(201);
    },
  );

  it('a third on a DATA_DIR in use fails in one line, and the first keeps running', STARTS, async () => {
    const third = launch('node', { port: await freePort(), dataDir: first.dataDir });
    expect(await third.exited).toBe(1);
    expect(third.stderr()).toBe(
      `marketplace could not start: the embedded PostgreSQL in ${clusterOf(first.dataDir)} is in use by another running process (pid ${first.nodePid}); stop that process, or set DATA_DIR to another directory\n`,
    );
    expect((await fetch(`http://127.0.0.1:${first.port}/readyz`)).ok).toBe(true);
  });

  it(
    'SIGTERM to npm (kill, timeout) stops the marketplace and its PostgreSQL within seconds',
    STARTS,
    async () => {
      const pids = [first.child.pid!, first.nodePid!];
      const since = Date.now();
      first.child.kill('SIGTERM');
      const took = await goneWithin(pids, first.dataDir, since);
      expect(took).toBeLessThan(STOP_WITHIN_MS);
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('"msg":"stopped"');
    },
  );

  it('SIGINT to node (Ctrl-C) stops it likewise', STARTS, async () => {
    const since = Date.now();
    second.child.kill('SIGINT');
    const took = await goneWithin([second.child.pid!], second.dataDir, since);
    expect(took).toBeLessThan(STOP_WITHIN_MS);
    expect(await second.exited).toBe(0);
  });
});

describe('a marketplace started by npm', () => {
  it(
    'stops within seconds, PostgreSQL included, when its whole process group gets SIGTERM',
    STARTS,
    async () => {
      const running = launch('npm', { port: await freePort(), dataDir: dataDirs[0]!, detached: true });
      await ready(running);
      const pids = [running.child.pid!, running.nodePid!];
      const since = Date.now();
      process.kill(-running.child.pid!, 'SIGTERM'); // npm and node both get it; npm passes it on too
      const took = await goneWithin(pids, running.dataDir, since);
      expect(took).toBeLessThan(STOP_WITHIN_MS);
      expect(await running.exited).toBe(0);
    },
  );

  it('stops too when npm is killed with SIGKILL, which npm cannot pass on', STARTS, async () => {
    const running = launch('npm', { port: await freePort(), dataDir: dataDirs[1]! });
    await ready(running);
    const since = Date.now();
    running.child.kill('SIGKILL');
    const took = await goneWithin([running.nodePid!], running.dataDir, since);
    expect(took).toBeLessThan(STOP_WITHIN_MS);
  });
});

describe('a failure to start: one line, exit code 1, nothing left running', () => {
  it('the HTTP port held by another program', STARTS, async () => {
    const port = await freePort();
    const holder = await hold(port);
    try {
      const running = launch('npm', { port, dataDir: dataDirs[0]! });
      expect(await running.exited).toBe(1);
      expect(running.stderr()).toBe(
        `marketplace could not start: port ${port} is in use by another program; set PORT to a free port\n`,
      );
      expect(processesWorkingIn(clusterOf(running.dataDir))).toEqual([]);
    } finally {
      holder?.close();
    }
  });

  it('EMBEDDED_POSTGRES_PORT held by another program', STARTS, async () => {
    const postgresPort = await freePort();
    const holder = await hold(postgresPort);
    try {
      const running = launch('node', {
        port: await freePort(),
        dataDir: dataDirs[0]!,
        env: { EMBEDDED_POSTGRES_PORT: String(postgresPort) },
      });
      expect(await running.exited).toBe(1);
      expect(running.stderr()).toBe(
        `marketplace could not start: port ${postgresPort} (EMBEDDED_POSTGRES_PORT) is in use by another program; set EMBEDDED_POSTGRES_PORT to a free port, or unset it to let the embedded PostgreSQL pick one\n`,
      );
      expect(processesWorkingIn(clusterOf(running.dataDir))).toEqual([]);
    } finally {
      holder?.close();
    }
  });
});
