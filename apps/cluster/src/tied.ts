/**
 * Children that die with the supervisor. On Linux, `setpriv --pdeathsig` (util-linux) sets the
 * signal the kernel sends a process when its parent dies, then execs the command in its place (same
 * pid, no wrapper left). So a supervisor killed with SIGKILL, which runs no exit handler, still
 * takes its replicas and nginx down: each gets SIGTERM and stops as it would on `start:cluster`'s
 * Ctrl-C (nginx's master then stops its workers). Without setpriv the command runs as it is, and a
 * SIGKILLed supervisor leaves its children running, as before.
 *
 * The kernel sends the signal when the *thread* that started the child ends, so the cluster is to be
 * started from a process's main thread, as `start:cluster`, the benchmarks' cluster host and
 * vitest's forked workers do: one started from a worker thread would lose its children with it.
 */
import { existsSync } from 'node:fs';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => existsSync(file));

/** The command and arguments that run `command` so that it gets SIGTERM when its parent dies. */
export function tiedToSupervisor(command: string, args: readonly string[]): [string, string[]] {
  if (process.platform !== 'linux' || !SETPRIV) return [command, [...args]];
  return [SETPRIV, ['--pdeathsig', 'TERM', '--', command, ...args]];
}
