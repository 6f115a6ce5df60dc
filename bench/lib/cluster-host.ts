/**
 * The cluster under test in a process of its own: `startCluster` runs the supervisor (and, where
 * HAProxy is missing, the Node gateway) in the process that calls it, and a load generator in that
 * same process would share its event loop (and be measured as entry time). Started by `startBenchCluster` with an IPC
 * channel: it receives the options, answers with the addresses once every replica is ready, and
 * stops the cluster when told to.
 */
import { createLogger } from '@ticketing/common';
import { SERVICES, startCluster, type ClusterOptions } from '../../apps/cluster/src/cluster.ts';

export type HostOptions = Omit<ClusterOptions, 'logger'>;

export interface HostReady {
  type: 'ready';
  url: string;
  databaseUrls: Record<string, string>;
  replicas: { service: string; name: string; url: string; pid: number | undefined }[];
  /** The entry's kind and its process (HAProxy's, or the host's own for the Node gateway). */
  entry: { kind: string; pids: number[] };
}

const logger = createLogger('bench-cluster', { level: process.env.LOG_LEVEL ?? 'warn', pretty: false });

process.once('message', (options: HostOptions) => {
  void (async () => {
    const cluster = await startCluster({ ...options, logger });
    const stop = () => void cluster.stop().then(() => process.exit(0));
    process.on('message', (message: { type: string }) => {
      if (message.type === 'stop') stop();
    });
    process.once('disconnect', stop); // the benchmark died: do not leave replicas behind
    try {
      await cluster.waitUntilReady(); // every replica ready, and the entry routing to each
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    const ready: HostReady = {
      type: 'ready',
      url: cluster.url,
      databaseUrls: cluster.databaseUrls,
      replicas: SERVICES.flatMap((s) =>
        cluster.replicas[s].map((r) => ({ service: s, name: r.name, url: r.url, pid: r.process?.pid })),
      ),
      entry: { kind: cluster.entry.kind, pids: cluster.entry.pids() },
    };
    process.send?.(ready);
  })();
});
