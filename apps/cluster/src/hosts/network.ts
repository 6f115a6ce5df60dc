/**
 * Hosts on one machine: each a Linux network namespace with its own address, all plugged into one
 * switch (a bridge in a namespace of its own), built with iproute2 (`ip netns`, veth pairs). Every
 * address lives inside the namespaces, in a private range; the machine's own network is not
 * touched. A process runs on a host through `ip netns exec`, which execs it in place (same pid).
 *
 * Faults are made the way a network makes them:
 * - `cut(host)` takes its cable out (the switch's end of its link goes down): nothing reaches it,
 *   nothing leaves it, and connections already open simply stop hearing back;
 * - `partition(host, peers)` drops every packet between it and those peers (blackhole routes on
 *   both sides), while the rest of the network still reaches it.
 *
 * Needs root and iproute2. A network's namespaces are named after the process that made it, so a
 * later run removes those of a process that died without cleaning up.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((file) => existsSync(file));
const PREFIX = 'tkhost';
const SUBNET = '10.88.0';

export interface Host {
  /** The name tests and logs use: `nats-1`, `db`, `svc-2`... */
  readonly name: string;
  /** Its network namespace. */
  readonly namespace: string;
  readonly address: string;
}

const ip = async (...args: string[]) => {
  await run(IP!, args);
};

/** Why hosts cannot be built here, or undefined when they can. */
export async function hostsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'building network namespaces needs root';
  if (!IP) return 'iproute2 (the ip command) is not installed';
  const probe = `${PREFIX}-probe-${process.pid}`;
  try {
    await ip('netns', 'add', probe);
    await ip('netns', 'del', probe);
    return undefined;
  } catch (error) {
    return `ip netns add failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
  }
}

/** The namespaces of networks whose process is gone (a run killed before it could clean up). */
async function removeAbandoned(): Promise<void> {
  const { stdout } = await run(IP!, ['netns', 'list']);
  for (const line of stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) await ip('netns', 'del', name).catch(() => {});
  }
}

export class Network {
  private readonly hosts = new Map<string, Host>();
  private readonly partitions: [Host, Host][] = [];
  private constructor(
    private readonly prefix: string,
    private readonly switchNamespace: string,
  ) {}

  /** A switch with nothing plugged in yet. */
  static async create(): Promise<Network> {
    await removeAbandoned();
    const prefix = `${PREFIX}${process.pid}`;
    const switchNamespace = `${prefix}-switch`;
    await ip('netns', 'add', switchNamespace);
    await ip('-n', switchNamespace, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', switchNamespace, 'link', 'set', 'br0', 'up');
    return new Network(prefix, switchNamespace);
  }

  /** A new host plugged into the switch, at `10.88.0.<number>`. */
  async addHost(name: string, number: number): Promise<Host> {
    if (!/^[a-z][a-z0-9-]{0,9}$/.test(name)) throw new Error(`bad host name ${name}`);
    const host: Host = { name, namespace: `${this.prefix}-${name}`, address: `${SUBNET}.${number}` };
    await ip('netns', 'add', host.namespace);
    await ip(
      'link',
      'add',
      'eth0',
      'netns',
      host.namespace,
      'type',
      'veth',
      'peer',
      'name',
      this.port(host),
      'netns',
      this.switchNamespace,
    );
    await ip('-n', this.switchNamespace, 'link', 'set', 'dev', this.port(host), 'master', 'br0');
    await ip('-n', this.switchNamespace, 'link', 'set', 'dev', this.port(host), 'up');
    await ip('-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
    await ip('-n', host.namespace, 'link', 'set', 'lo', 'up');
    await ip('-n', host.namespace, 'link', 'set', 'eth0', 'up');
    this.hosts.set(name, host);
    return host;
  }

  /** The command and arguments that run `command` on `host`. */
  on(host: Host, command: string, args: readonly string[]): [string, string[]] {
    return [IP!, ['netns', 'exec', host.namespace, command, ...args]];
  }

  /** Takes the host's cable out. */
  async cut(host: Host): Promise<void> {
    await ip('-n', this.switchNamespace, 'link', 'set', 'dev', this.port(host), 'down');
  }

  /** Puts it back. */
  async restore(host: Host): Promise<void> {
    await ip('-n', this.switchNamespace, 'link', 'set', 'dev', this.port(host), 'up');
  }

  /** Drops every packet between `host` and each of `peers`, both ways. */
  async partition(host: Host, peers: readonly Host[]): Promise<void> {
    for (const peer of peers) {
      await ip('-n', host.namespace, 'route', 'add', 'blackhole', `${peer.address}/32`);
      await ip('-n', peer.namespace, 'route', 'add', 'blackhole', `${host.address}/32`);
      this.partitions.push([host, peer]);
    }
  }

  /** Ends every partition. */
  async heal(): Promise<void> {
    for (const [host, peer] of this.partitions.splice(0)) {
      await ip('-n', host.namespace, 'route', 'del', 'blackhole', `${peer.address}/32`).catch(() => {});
      await ip('-n', peer.namespace, 'route', 'del', 'blackhole', `${host.address}/32`).catch(() => {});
    }
  }

  /** Removes every namespace (and with them their links). Processes on the hosts are the caller's. */
  async destroy(): Promise<void> {
    for (const host of this.hosts.values()) await ip('netns', 'del', host.namespace).catch(() => {});
    this.hosts.clear();
    await ip('netns', 'del', this.switchNamespace).catch(() => {});
  }

  /** The switch's end of the host's link. */
  private port(host: Host): string {
    return `to-${host.name}`;
  }
}
