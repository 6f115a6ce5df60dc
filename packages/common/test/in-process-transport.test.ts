import { InProcessBus } from '../src/messaging/in-process.ts';
import { describeTransportContract } from './transport-contract.ts';

describeTransportContract('in-process', async () => {
  const bus = new InProcessBus();
  return {
    transport: bus,
    // One process, one bus: "another connection" is the same bus.
    connectAgain: async () => ({
      ...bus,
      kind: bus.kind,
      publish: bus.publish.bind(bus),
      subscribe: bus.subscribe.bind(bus),
      isHealthy: () => true,
      close: async () => {},
    }),
    cleanup: () => bus.close(),
  };
});
