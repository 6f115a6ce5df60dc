/**
 * The production bus: NATS JetStream. Events are stored in one stream (`<prefix>.>`), so a
 * publish resolves only once the broker holds the message, and a service that was down catches up
 * from where its consumer stopped.
 *
 * A consumer group is a durable pull consumer per (group, event type): every replica of a service
 * pulls from the same durable, which is the JetStream form of a NATS queue group, and every group
 * sees every event. (NATS 2.9 allows one filter subject per consumer, hence one durable per event
 * type rather than one per service.) The event id is sent as `Nats-Msg-Id`, so a re-publish inside
 * the stream's duplicate window (an outbox relay retrying after a lost PubAck) is dropped by the
 * server.
 */
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  PubHeaders,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import {
  durableName,
  subjectFor,
  type ConsumerPending,
  type DeliveredMessage,
  type MessageHandler,
  type SubscribeOptions,
  type Subscription,
  type Transport,
} from './transport.ts';

/** How long JetStream may fail through a server that stays connected before the client moves on. */
const MOVE_AFTER_MS = 10_000;
/** How often the client pings its server; see `connect`. */
const PING_INTERVAL_MS = 5_000;

export interface JetStreamTransportOptions {
  /** One server's URL, or several, comma-separated (a cluster's seeds: any one that answers will do). */
  servers: string;
  /** Stream name; its subjects are `${subjectPrefix}.>`. */
  stream: string;
  /** Default: the stream name in lower case. */
  subjectPrefix?: string;
  logger: Logger;
  /** How long the server remembers a message id for de-duplication. Default 120 s. */
  duplicateWindowMs?: number;
  /** Copies of the stream kept by a NATS cluster (1 on a single server, 3 on a 3-node cluster). */
  replicas?: number;
}

/**
 * Unacknowledged deliveries the server lets one durable have outstanding, over all its replicas.
 * Deliveries naked with a delay count too, so this is well above any sum of concurrencies.
 */
const MAX_ACK_PENDING = 10_000;
const PUBLISH_TIMEOUT_MS = 5_000;
const DRAIN_TIMEOUT_MS = 5_000;
/**
 * How long one pull request waits for messages before the next one replaces it. The client ends a
 * fetch whose server went quiet after two missed heartbeats (half of this each), so this also
 * bounds how long a consumer whose leader moved to another server waits before pulling again.
 */
const FETCH_EXPIRES_MS = 10_000;
/**
 * A fetch that has received nothing for this long past its expiry is ended here. The client
 * suspends its heartbeat check while disconnected and, when the consumer's leader moved to another
 * server meanwhile, can leave the fetch open with no pull request behind it: found in the
 * multi-host fault tests, where a consumer stopped receiving for good after its stream leader was
 * killed.
 */
const FETCH_STALL_MS = FETCH_EXPIRES_MS + 5_000;

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/** Event bodies are JSON; anything else is handed over as text, for the consumer to dead-letter. */
function decodeBody(msg: JsMsg): unknown {
  const text = msg.string();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class JetStreamTransport implements Transport {
  readonly kind = 'jetstream' as const;
  private readonly subscriptions = new Set<PullSubscription>();
  private connected = true;
  private readonly connectionWaiters = new Set<() => void>();
  /** Since when JetStream requests have failed with no success in between (0: they work). */
  private failingSince = 0;
  private lastMove = 0;
  private closing?: Promise<void>;
  private pendingCache?: { at: number; counts: Promise<ConsumerPending[]> };

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly stream: string,
    readonly prefix: string,
    private readonly duplicateWindowMs: number,
    readonly logger: Logger,
    private readonly replicas?: number,
  ) {
    void this.watchConnection();
  }

  static async connect(options: JetStreamTransportOptions): Promise<JetStreamTransport> {
    const nc = await connect({
      servers: options.servers
        .split(',')
        .map((server) => server.trim())
        .filter(Boolean),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // A server that stops answering (its host gone, the link cut: no connection is closed, the
      // packets just stop) is given up after two unanswered pings, so within 10 to 15 s the client
      // says it is not connected (and `/readyz` not ready) and moves to another seed.
      pingInterval: PING_INTERVAL_MS,
      maxPingOut: 2,
      // Otherwise every request (each publish, each fetch) creates an Error up front to keep the
      // caller's stack for a timeout that almost never comes: about 1% of a consuming service's
      // CPU in the rush's profile. A timeout still says what timed out.
      noAsyncTraces: true,
    });
    try {
      const transport = new JetStreamTransport(
        nc,
        jetstream(nc),
        await jetstreamManager(nc),
        options.stream,
        options.subjectPrefix ?? options.stream.toLowerCase(),
        options.duplicateWindowMs ?? 120_000,
        options.logger.child({ component: 'jetstream', stream: options.stream }),
        options.replicas,
      );
      await transport.ensureStream();
      return transport;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /** Creates the stream, or adds our subjects and duplicate window to an existing one. */
  async ensureStream(): Promise<void> {
    const subject = `${this.prefix}.>`;
    const duplicateWindow = nanos(this.duplicateWindowMs);
    for (let attempt = 0; ; attempt++) {
      try {
        const { config } = await this.jsm.streams.info(this.stream);
        const subjects = config.subjects ?? [];
        const replicas = this.replicas ?? config.num_replicas;
        if (
          !subjects.includes(subject) ||
          config.duplicate_window !== duplicateWindow ||
          config.num_replicas !== replicas
        ) {
          await this.jsm.streams.update(this.stream, {
            ...config,
            subjects: subjects.includes(subject) ? subjects : [...subjects, subject],
            duplicate_window: duplicateWindow,
            num_replicas: replicas,
          });
        }
        return;
      } catch (error) {
        if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
      }
      try {
        await this.jsm.streams.add({
          name: this.stream,
          subjects: [subject],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          duplicate_window: duplicateWindow,
          num_replicas: this.replicas ?? 1,
        });
        this.logger.info({ subject }, 'created stream');
        return;
      } catch (error) {
        // Another process created it between our info and add: look again.
        if (attempt >= 2) throw error;
      }
    }
  }

  /** Creates the durable, or updates the settings a redeploy may change. */
  /**
   * Creates or updates the durable. With `create: false` (recovering after a failure) it never
   * creates anything: a restarted server accepts connections before JetStream has recovered its
   * streams from disk, and creating the stream or the durable in that window would replace the
   * recovered one, with the messages not yet consumed. So recovery waits for them to reappear.
   */
  async ensureConsumer(name: string, options: SubscribeOptions, create = true): Promise<void> {
    const wanted: Partial<ConsumerConfig> = {
      ack_wait: nanos(options.ackWaitMs),
      max_deliver: options.maxDeliver,
      max_ack_pending: MAX_ACK_PENDING,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const { config } = await this.jsm.consumers.info(this.stream, name);
        if (
          config.ack_wait !== wanted.ack_wait ||
          config.max_deliver !== wanted.max_deliver ||
          config.max_ack_pending !== wanted.max_ack_pending
        ) {
          await this.jsm.consumers.update(this.stream, name, wanted);
        }
        return;
      } catch (error) {
        const missing =
          isApiError(error, JetStreamApiCodes.StreamNotFound) ||
          isApiError(error, JetStreamApiCodes.ConsumerNotFound);
        if (missing && !create)
          throw new Error(`stream ${this.stream} or consumer ${name} not available yet`);
        if (isApiError(error, JetStreamApiCodes.StreamNotFound)) await this.ensureStream();
        else if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
      }
      try {
        await this.jsm.consumers.add(this.stream, {
          ...wanted,
          durable_name: name,
          filter_subject: subjectFor(this.prefix, options.subject),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
        });
        return;
      } catch (error) {
        if (attempt >= 2) throw error;
      }
    }
  }

  async publish(subject: string, id: string, body: unknown): Promise<void> {
    try {
      await this.js.publish(subjectFor(this.prefix, subject), JSON.stringify(body) ?? 'null', {
        msgID: id,
        timeout: PUBLISH_TIMEOUT_MS,
      });
    } catch (error) {
      this.jetStreamFailed();
      throw error;
    }
    this.jetStreamAnswered();
  }

  /** A JetStream request was answered. */
  jetStreamAnswered(): void {
    this.failingSince = 0;
  }

  /**
   * A JetStream request failed. A server cut off from the rest of its cluster keeps its clients
   * connected, but answers no JetStream request (no stream leader is reachable from it): after
   * `MOVE_AFTER_MS` of nothing but failures while connected, the client moves to another of the
   * cluster's servers, at most once per that period. (A stream leader's election, after a server
   * is lost, takes a few seconds: shorter than that.)
   */
  jetStreamFailed(): void {
    if (!this.connected || this.nc.isClosed()) return;
    const now = Date.now();
    if (this.failingSince === 0) {
      this.failingSince = now;
      return;
    }
    if (now - this.failingSince < MOVE_AFTER_MS || now - this.lastMove < MOVE_AFTER_MS) return;
    this.failingSince = 0;
    this.lastMove = now;
    this.logger.warn(
      { server: this.nc.getServer() },
      'JetStream does not answer through this server; moving to another',
    );
    this.nc.reconnect().catch(() => {});
  }

  async subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription> {
    if (this.closing) throw new Error('JetStream transport is closed');
    const name = durableName(options.group, options.subject);
    await this.ensureConsumer(name, options);
    const subscription = new PullSubscription(this, name, options, handler);
    this.subscriptions.add(subscription);
    return {
      close: async () => {
        await subscription.close();
        this.subscriptions.delete(subscription);
      },
    };
  }

  isHealthy(): boolean {
    return this.connected && !this.nc.isClosed();
  }

  /** Per durable of this transport's subscriptions: num_pending + num_ack_pending, cached for 1 s. */
  pendingCounts(): Promise<ConsumerPending[]> {
    const now = Date.now();
    if (this.pendingCache && now - this.pendingCache.at < 1_000) return this.pendingCache.counts;
    const durables = new Map([...this.subscriptions].map((s) => [s.name, s.options]));
    const counts = Promise.all(
      [...durables].map(async ([name, options]) => {
        try {
          const info = await this.jsm.consumers.info(this.stream, name);
          const pending = info.num_pending + info.num_ack_pending;
          return [{ group: options.group, subject: options.subject, pending }];
        } catch {
          return [];
        }
      }),
    ).then((perDurable) => perDurable.flat());
    this.pendingCache = { at: now, counts };
    return counts;
  }

  /** Resolves once connected (at once if connected now), or when the connection is closed. */
  whenConnected(): Promise<void> {
    if (this.isHealthy() || this.nc.isClosed()) return Promise.resolve();
    return new Promise((resolve) => this.connectionWaiters.add(resolve));
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /**
   * Deletes the stream (tests use it for cleanup). Closes this transport's subscriptions first:
   * a running subscription recreates a durable, and the stream, that disappear under it.
   */
  async destroy(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    try {
      await this.jsm.streams.delete(this.stream);
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    }
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    if (this.nc.isClosed()) return;
    // Drain flushes the acks still buffered; it cannot finish while the server is unreachable.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.nc.drain(),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_TIMEOUT_MS))),
      ]);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not drain the NATS connection');
    } finally {
      clearTimeout(timer);
      if (!this.nc.isClosed()) await this.nc.close();
    }
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      switch (status.type) {
        case 'disconnect':
        case 'reconnecting':
          if (this.connected) this.logger.warn('disconnected from NATS; reconnecting');
          this.connected = false;
          break;
        case 'reconnect':
          this.connected = true;
          this.logger.info({ server: status.server }, 'reconnected to NATS');
          this.releaseConnectionWaiters();
          break;
        default:
      }
    }
    this.connected = false; // the status iterator ends when the connection closes
    this.releaseConnectionWaiters();
  }

  private releaseConnectionWaiters(): void {
    for (const resolve of this.connectionWaiters) resolve();
    this.connectionWaiters.clear();
  }
}

/**
 * One subscriber on a durable. It pulls with `fetch()`, a batch of `concurrency` messages at a time
 * once a handler slot is free, and hands each message to a handler as slots free up. (A pull sized
 * to the free slots is, under load, a pull per message, each with its own subscription and
 * heartbeat timer: on `npm run bench:bus` batching them took a quarter off the NATS server's CPU
 * and added 5% to the throughput.) So the client holds at most `concurrency - 1` deliveries no
 * handler works on yet, each for about one handler's time, well inside the ack wait; on close it
 * naks them, so they come back at once. (`consume()` keeps re-pulling from inside its iterator; on
 * close, the pulls it had queued still go out after the unsubscribe, and NATS 2.9 delivers to them
 * anyway: those messages sat unacknowledged until the ack wait expired. A fetch leaves no pull
 * behind.) A fetch waits through reconnects; one that fails (missed heartbeats, a deleted durable)
 * is started again after a pause, recreating the durable if it is gone.
 */
class PullSubscription {
  private readonly log: Logger;
  private readonly concurrency: number;
  private readonly inFlight = new Set<Promise<void>>();
  private batch?: ConsumerMessages;
  private stopping = false;
  private signalStop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.signalStop = resolve));
  private readonly running: Promise<void>;
  private closing?: Promise<void>;

  constructor(
    private readonly transport: JetStreamTransport,
    readonly name: string,
    readonly options: SubscribeOptions,
    private readonly handler: MessageHandler,
  ) {
    this.log = transport.logger.child({ consumer: name });
    this.concurrency = Math.max(1, options.concurrency);
    this.running = this.run();
  }

  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    // Unsubscribes the open fetch; the loop naks what it had already received, so it comes back
    // at once instead of after the ack wait.
    this.batch?.stop();
    await this.running;
    await Promise.all(this.inFlight);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        if (failures > 0) await this.transport.ensureConsumer(this.name, this.options, false);
        const consumer = await this.transport.js.consumers.get(this.transport.stream, this.name);
        while (!this.stopping) {
          await this.freeSlot();
          if (this.stopping) break;
          const batch = await consumer.fetch({
            max_messages: this.concurrency,
            expires: FETCH_EXPIRES_MS,
          });
          // The pull request is sent when iteration starts: never start it once stopping.
          if (this.stopping) {
            batch.stop();
            break;
          }
          this.batch = batch;
          let stalled = false;
          let watchdog: NodeJS.Timeout | undefined;
          const watch = () => {
            clearTimeout(watchdog);
            watchdog = setTimeout(() => {
              stalled = true;
              batch.stop();
            }, FETCH_STALL_MS);
          };
          watch();
          try {
            for await (const msg of batch) {
              failures = 0;
              this.transport.jetStreamAnswered();
              if (!this.stopping) await this.freeSlot(); // a batch can hold more than the free slots
              watch();
              if (this.stopping) msg.nak();
              else this.dispatch(msg);
            }
          } finally {
            clearTimeout(watchdog);
          }
          if (stalled) this.log.warn('a fetch got nothing long past its expiry; pulling again');
          this.batch = undefined;
        }
      } catch (error) {
        this.batch = undefined;
        if (!this.stopping) {
          this.log.warn({ err: error }, 'JetStream fetch failed');
          this.transport.jetStreamFailed();
        }
      }
      if (this.stopping || this.transport.nc.isClosed()) return;
      failures += 1;
      await this.pause(Math.min(5_000, 250 * 2 ** Math.min(failures - 1, 5)));
      if (!this.transport.isHealthy()) {
        // A request sent while disconnected is buffered and times out: wait for the link, then
        // a little more, as a restarted server answers before its JetStream is ready.
        await Promise.race([this.transport.whenConnected(), this.stopped]);
        failures = 1;
        await this.pause(250);
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), this.stopped]);
    clearTimeout(timer);
  }

  private async freeSlot(): Promise<void> {
    while (!this.stopping && this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
  }

  private dispatch(msg: JsMsg): void {
    const task: Promise<void> = this.handle(msg).finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async handle(msg: JsMsg): Promise<void> {
    let answered = false;
    const answer = (fn: () => Promise<unknown> | void) => async () => {
      if (answered) return;
      answered = true;
      await fn();
    };
    const message: DeliveredMessage = {
      id: msg.headers?.get(PubHeaders.MsgIdHdr) || `${msg.info.stream}:${msg.seq}`,
      subject: this.options.subject,
      body: decodeBody(msg),
      deliveryCount: msg.info.deliveryCount,
      // Not confirmed (no `ackAck()`): an ack lost on the way only brings the event back after the
      // ack wait, and the inbox acknowledges it without effect. Waiting for the confirmation held
      // the handler's slot for one more round trip per event (a quarter of the throughput on
      // `npm run bench:bus`). Buffered acks go out with the next flush; closing drains them.
      ack: answer(() => msg.ack()),
      nak: (delayMs?: number) => answer(() => msg.nak(delayMs))(),
      term: answer(() => msg.term()),
    };
    try {
      await this.handler(message);
    } catch (error) {
      this.log.warn({ err: error, eventId: message.id }, 'handler failed');
      try {
        if (!answered) await message.nak();
      } catch (nakError) {
        // The connection is gone: the delivery comes back after the ack wait.
        this.log.warn({ err: nakError, eventId: message.id }, 'could not nak');
      }
    }
  }
}
