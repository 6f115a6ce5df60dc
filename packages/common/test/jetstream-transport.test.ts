/**
 * The transport contract against a real JetStream server (NATS_URL). Each test gets its own
 * stream and subject prefix, deleted afterwards, so runs never see each other's events.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JetStreamTransport } from '../src/messaging/jetstream.ts';
import { silentLogger } from '../src/testing/index.ts';
import { describeTransportContract } from './transport-contract.ts';

const natsUrl = process.env.NATS_URL;

if (!natsUrl)
  console.warn('JetStream contract suite skipped: set NATS_URL (e.g. nats://127.0.0.1:4222) to run it');

describe.runIf(natsUrl)('on a JetStream server (NATS_URL)', () => {
  describeTransportContract('jetstream', async () => {
    const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
    const options = {
      servers: natsUrl!,
      stream: `CT_${suffix}`,
      subjectPrefix: `ct_${suffix}`,
      logger: silentLogger,
    };
    const transport = await JetStreamTransport.connect(options);
    const others: JetStreamTransport[] = [];
    return {
      transport,
      connectAgain: async () => {
        const other = await JetStreamTransport.connect(options);
        others.push(other);
        return other;
      },
      cleanup: async () => {
        // The other connections first: a subscriber still running would recreate the stream.
        for (const other of others) await other.close();
        await transport.destroy();
        await transport.close();
      },
    };
  });

  it('takes a cluster’s seeds, comma-separated, and connects to one that answers', async () => {
    const stream = `SEEDS_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const transport = await JetStreamTransport.connect({
      // Port 1 refuses: the client goes on to the next seed.
      servers: ` nats://127.0.0.1:1 , ${natsUrl!}`,
      stream,
      logger: silentLogger,
    });
    try {
      expect(transport.isHealthy()).toBe(true);
      await transport.publish(`${stream.toLowerCase()}.ticket.created`, randomUUID(), { ok: true });
    } finally {
      await transport.destroy();
      await transport.close();
    }
  });
});
