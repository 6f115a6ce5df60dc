/**
 * The embedded PostgreSQL on its own: where its cluster lives (as root, out of directories the
 * postgres user cannot reach), its port when the preferred one or the one asked for is taken, a
 * server left running by a process that ended, one still in use, and a start stopped halfway.
 * One cluster is created for the file (initdb takes seconds) and restarted by each test.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  cp,
  lstat,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canTieChildren,
  embeddedBinaries,
  freePort,
  postmasterArgs,
  reachableBinaries,
  serverUser,
  startEmbeddedPostgres,
  StartError,
  type EmbeddedOptions,
} from '@ticketing/common';
import { alive, processesWorkingIn, waitFor } from '@ticketing/common/testing';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const isRoot = process.getuid?.() === 0;
const linux = process.platform === 'linux';

let tmp: string;
let clustersRoot: string;
let dataDir: string;
let clusterDir: string;

/** Tests that start the server, some more than once: seconds each on a busy machine. */
const STARTS = { timeout: 90_000 };

const start = (options: Partial<EmbeddedOptions> = {}) =>
  startEmbeddedPostgres({ dataDir, clustersRoot, ...options });

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Holds `port` on 127.0.0.1 (as another program would) until `release()`. */
async function hold(port: number): Promise<{ release(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { release: () => new Promise((resolve) => server.close(() => resolve())) };
}

const postmasterPid = async () =>
  Number((await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);

beforeAll(async () => {
  // A directory of mkdtemp is 0700: as root, closed to the postgres user.
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ticketing-embedded-'));
  clustersRoot = await mkdtemp(path.join(os.tmpdir(), 'ticketing-clusters-'));
  await chmod(clustersRoot, 0o755); // stands in for /var/lib/ticketing/postgres
  dataDir = path.join(tmp, 'postgres');
  const server = await start();
  clusterDir = server.clusterDir;
  await query(server.url, 'create table kept (value text); insert into kept values ($$before$$)');
  await server.stop();
}, 120_000);

afterAll(async () => {
  for (const pid of clusterDir ? processesWorkingIn(clusterDir) : []) process.kill(pid, 'SIGKILL');
  await rm(tmp, { recursive: true, force: true });
  await rm(clustersRoot, { recursive: true, force: true });
});

describe('where the cluster lives', () => {
  it('keeps its data across restarts', STARTS, async () => {
    const server = await start();
    try {
      expect(await query(server.url, 'select value from kept')).toEqual([{ value: 'before' }]);
    } finally {
      await server.stop();
    }
    expect(processesWorkingIn(clusterDir)).toEqual([]);
  });

  it.runIf(isRoot)(
    'as root, behind a data directory the postgres user cannot reach, lives where it can, linked from there',
    async () => {
      expect((await lstat(dataDir)).isSymbolicLink()).toBe(true);
      expect(await readlink(dataDir)).toBe(clusterDir);
      expect(path.dirname(clusterDir)).toBe(clustersRoot);
      const user = (await serverUser())!;
      expect((await stat(clusterDir)).uid).toBe(user.uid);
    },
  );

  it.runIf(!isRoot)('as an ordinary user, is the data directory itself', () => {
    expect(clusterDir).toBe(dataDir);
  });

  it.runIf(isRoot)(
    'as root, binaries the postgres user cannot run are copied once to where it can',
    async () => {
      const user = (await serverUser())!;
      const installed = await embeddedBinaries(undefined); // as npm put them
      const closed = await mkdtemp(path.join(os.tmpdir(), 'ticketing-binaries-')); // 0700
      const cache = await mkdtemp(path.join(os.tmpdir(), 'ticketing-binaries-cache-'));
      try {
        await chmod(cache, 0o755);
        await cp(installed.dir, path.join(closed, 'native'), { recursive: true, verbatimSymlinks: true });
        const source = {
          dir: path.join(closed, 'native'),
          initdb: path.join(closed, 'native', 'bin', 'initdb'),
          postgres: path.join(closed, 'native', 'bin', 'postgres'),
          pg_ctl: path.join(closed, 'native', 'bin', 'pg_ctl'),
        };
        const logged: string[] = [];
        const copied = await reachableBinaries(source, 'test', user, path.join(cache, 'sub'), (m) =>
          logged.push(m),
        );
        expect(copied.dir).toBe(path.join(cache, 'sub', 'postgres-test'));
        const again = await reachableBinaries(source, 'test', user, path.join(cache, 'sub'), (m) =>
          logged.push(m),
        );
        expect(again).toEqual(copied);
        expect(logged.filter((line) => line.startsWith('copying'))).toHaveLength(1);
        // Made where the postgres user can reach them, whatever the umask.
        expect((await stat(path.join(cache, 'sub'))).mode & 0o777).toBe(0o755);
      } finally {
        await rm(closed, { recursive: true, force: true });
        await rm(cache, { recursive: true, force: true });
      }
    },
  );
});

describe('its port', () => {
  it('is the preferred one when free, and another when another program holds it', STARTS, async () => {
    const port = await freePort();
    const held = await hold(port);
    try {
      const server = await start({ preferredPort: port });
      try {
        expect(server.port).not.toBe(port);
        expect(await query(server.url, 'select 1 as one')).toEqual([{ one: 1 }]);
      } finally {
        await server.stop();
      }
    } finally {
      await held.release();
    }
    const server = await start({ preferredPort: port });
    expect(server.port).toBe(port);
    await server.stop();
  });

  it(
    'asked for exactly and held by another program, fails in one line naming its setting',
    STARTS,
    async () => {
      const port = await freePort();
      const held = await hold(port);
      try {
        const failure = await start({ port, settings: { port: 'EMBEDDED_POSTGRES_PORT' } }).catch(
          (e: unknown) => e,
        );
        expect(failure).toBeInstanceOf(StartError);
        expect((failure as Error).message).toBe(
          `port ${port} (EMBEDDED_POSTGRES_PORT) is in use by another program; set EMBEDDED_POSTGRES_PORT to a free port, or unset it to let the embedded PostgreSQL pick one`,
        );
        expect(processesWorkingIn(clusterDir)).toEqual([]);
      } finally {
        await held.release();
      }
    },
  );
});

describe.runIf(linux)('a server already running on the cluster', () => {
  it('left by a process that ended, is stopped and the cluster started afresh', STARTS, async () => {
    // What a server started by pg_ctl, by an older version, or without setpriv outlives its process as.
    const user = await serverUser();
    const binaries = await embeddedBinaries(user);
    const port = await freePort();
    const left = spawn(binaries.postgres, postmasterArgs(clusterDir, port), {
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      detached: true,
      stdio: 'ignore',
      env: { LC_MESSAGES: 'C' },
    });
    left.unref();
    await waitFor(
      async () =>
        (await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[7]?.trim() === 'ready',
      30_000,
    );
    const server = await start();
    try {
      expect(alive(left.pid!)).toBe(false);
      expect(await postmasterPid()).not.toBe(left.pid);
      expect(await query(server.url, 'select value from kept')).toEqual([{ value: 'before' }]);
    } finally {
      await server.stop();
    }
  });

  it(
    'named by a postmaster.pid but no server of the cluster (a pid reused after a reboot), does not stop the start',
    STARTS,
    async () => {
      // A live process of the server's user: Postgres itself would take it for a server still running.
      const user = await serverUser();
      const other = spawn('sleep', ['60'], {
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
        stdio: 'ignore',
      });
      try {
        await writeFile(
          path.join(clusterDir, 'postmaster.pid'),
          `${other.pid}\n${clusterDir}\n1700000000\n5432\n\n127.0.0.1\n`,
        );
        const server = await start();
        try {
          expect(await query(server.url, 'select value from kept')).toEqual([{ value: 'before' }]);
        } finally {
          await server.stop();
        }
        expect(alive(other.pid!)).toBe(true);
      } finally {
        other.kill('SIGKILL');
      }
    },
  );

  it.runIf(canTieChildren)(
    'started by a process still running, is refused in one line; that process killed, goes with it',
    { timeout: 120_000 }, // another node process starts, imports the package, starts the server
    async () => {
      const script = `
        import { startEmbeddedPostgres } from '@ticketing/common';
        const server = await startEmbeddedPostgres(${JSON.stringify({ dataDir, clustersRoot })});
        console.log(server.port);
        setInterval(() => {}, 1000);`;
      const other = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        await new Promise<void>((resolve, reject) => {
          other.stdout.once('data', () => resolve());
          other.once('exit', (code) => reject(new Error(`the other process exited (${code})`)));
        });
        const failure = await start({ settings: { dataDir: 'DATA_DIR' } }).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(StartError);
        expect((failure as Error).message).toBe(
          `the embedded PostgreSQL in ${clusterDir} is in use by another running process (pid ${other.pid}); stop that process, or set DATA_DIR to another directory`,
        );
        const server = await postmasterPid();
        expect(alive(server)).toBe(true);

        other.kill('SIGKILL'); // no exit handler runs
        await waitFor(() => processesWorkingIn(clusterDir).length === 0, 15_000);
        expect(alive(server)).toBe(false);
      } finally {
        other.kill('SIGKILL');
      }
      const server = await start();
      await server.stop();
    },
  );
});

describe('a start stopped halfway', () => {
  it('removes the cluster initdb was creating', STARTS, async () => {
    const abort = new AbortController();
    const fresh = path.join(tmp, 'aborted');
    const failure = await startEmbeddedPostgres({
      dataDir: fresh,
      clustersRoot,
      signal: abort.signal,
      onLog: (message) => {
        // Once initdb runs.
        if (message.startsWith('creating the PostgreSQL cluster'))
          setImmediate(() => abort.abort(new Error('stopped while starting')));
      },
    }).catch((e: unknown) => e);
    expect((failure as Error).message).toBe('stopped while starting');
    const target = (await lstat(fresh).catch(() => undefined))?.isSymbolicLink()
      ? await readlink(fresh)
      : fresh;
    expect(existsSync(path.join(target, 'PG_VERSION'))).toBe(false);
    const leftovers = (await readdir(path.dirname(target))).filter((name) =>
      name.startsWith(`${path.basename(target)}.`),
    );
    expect(leftovers).toEqual([]);
    await rm(fresh, { force: true, recursive: true });
  });
});
