/**
 * Children that die with the process that started them. On Linux, `setpriv --pdeathsig` (util-linux)
 * sets the signal the kernel sends a process when its parent dies, then execs the command in its
 * place (same pid, no wrapper left). So a parent killed with SIGKILL, which runs no exit handler,
 * still takes its children down: the cluster's replicas and HAProxy get SIGTERM, the embedded
 * PostgreSQL gets SIGINT (its fast shutdown). Without setpriv the command runs as it is, and a
 * SIGKILLed parent leaves its children running.
 *
 * The kernel sends the signal when the *thread* that started the child ends, so tied children are
 * to be started from a process's main thread (child_process.spawn does, as do vitest's forked
 * workers): one started from a worker thread would die with that thread.
 */
import { existsSync } from 'node:fs';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => existsSync(file));

/** Whether children can be tied to this process (Linux with setpriv). */
export const canTieChildren = process.platform === 'linux' && SETPRIV !== undefined;

/** The command and arguments that run `command` so that it gets `signal` when its parent dies. */
export function tiedToParent(
  command: string,
  args: readonly string[],
  signal: 'TERM' | 'INT' = 'TERM',
): [string, string[]] {
  if (!canTieChildren) return [command, [...args]];
  return [SETPRIV!, ['--pdeathsig', signal, '--', command, ...args]];
}
