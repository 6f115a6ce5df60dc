/**
 * Local ports that lead onto the hosts. A host's relay (`relay.ts`, started on first use) listens on
 * a unix socket, which every network namespace can reach; a local TCP port here connects to that
 * socket, names its target, and from then on carries the bytes both ways. So `127.0.0.1:<port>`
 * here is `address:port` as seen from that host: the address plan stays inside the hosts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tiedToSupervisor } from '../tied.ts';
import type { Host, Network } from './network.ts';

const RELAY = fileURLToPath(new URL('./relay.ts', import.meta.url));

export class Forwarder {
  private readonly relays = new Map<string, { child: ChildProcess; socket: string }>();
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<net.Socket>();

  constructor(
    private readonly network: Network,
    private readonly dir: string,
  ) {}

  /** A local port that reaches `address:port` from `host`. */
  async forward(host: Host, address: string, port: number): Promise<number> {
    const socket = await this.relay(host);
    const server = net.createServer((local) => {
      this.connections.add(local);
      local.once('close', () => this.connections.delete(local));
      const remote = net.connect(socket, () => {
        remote.write(`${address}:${port}\n`);
        local.pipe(remote).pipe(local);
      });
      this.connections.add(remote);
      remote.once('close', () => {
        this.connections.delete(remote);
        local.destroy();
      });
      remote.once('error', () => local.destroy());
      local.once('error', () => remote.destroy());
      local.once('close', () => remote.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.servers.push(server);
    return (server.address() as net.AddressInfo).port;
  }

  private async relay(host: Host): Promise<string> {
    const known = this.relays.get(host.name);
    if (known) return known.socket;
    const socket = path.join(this.dir, `relay-${host.name}.sock`);
    const child = spawn(
      ...tiedToSupervisor(...this.network.on(host, process.execPath, ['--import', 'tsx', RELAY, socket])),
      { cwd: fileURLToPath(new URL('../../../..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the relay on ${host.name} exited (${code})`)));
      child.stdout.once('data', () => resolve());
    });
    child.removeAllListeners('exit');
    this.relays.set(host.name, { child, socket });
    return socket;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.destroy();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await Promise.all(
      [...this.relays.values()].map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    this.relays.clear();
  }
}
