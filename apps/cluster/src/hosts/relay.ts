/**
 * Runs on a host (inside its network namespace): accepts connections on a unix socket, reads the
 * target (`address:port\n`) each one starts with, and pipes the rest to that target over TCP. A
 * socket file is reachable from every network namespace, so this is how a process outside the
 * hosts (a test, a benchmark) opens a connection as if it were on this host (see `forward.ts`).
 *
 * Usage: node --import tsx relay.ts <socket path>; prints `ready` once it listens.
 */
import net from 'node:net';

const socketPath = process.argv[2];
if (!socketPath) throw new Error('usage: relay.ts <socket path>');

const server = net.createServer((client) => {
  client.once('error', () => client.destroy());
  let header = '';
  const onData = (chunk: Buffer) => {
    header += chunk.toString('latin1');
    const end = header.indexOf('\n');
    if (end < 0) {
      if (header.length > 100) client.destroy();
      return;
    }
    client.off('data', onData);
    client.pause();
    const [address, port] = header.slice(0, end).split(':');
    const rest = Buffer.from(header.slice(end + 1), 'latin1');
    const upstream = net.connect({ host: address, port: Number(port) }, () => {
      if (rest.length > 0) upstream.write(rest);
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.once('error', () => client.destroy());
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
  };
  client.on('data', onData);
});
server.listen(socketPath, () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => process.exit(0));
