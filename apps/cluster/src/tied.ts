/**
 * Replicas and HAProxy die with the supervisor: they are started through `setpriv --pdeathsig TERM`
 * (`tiedToParent` in @ticketing/common), so a supervisor killed with SIGKILL, which runs no exit
 * handler, still takes them down, each stopping as it would on `start:cluster`'s Ctrl-C. The cluster is to be
 * started from a process's main thread, as `start:cluster`, the benchmarks' cluster host and
 * vitest's forked workers do.
 */
import { tiedToParent } from '@ticketing/common';

/** The command and arguments that run `command` so that it gets SIGTERM when its parent dies. */
export function tiedToSupervisor(command: string, args: readonly string[]): [string, string[]] {
  return tiedToParent(command, args, 'TERM');
}
