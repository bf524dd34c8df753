import { upcastingEventStore } from '../adapters/upcastingEventStore.js';
import { EVENT_VERSIONS } from '../domain/events.js';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { eventStoreDbEventStore } from '../adapters/eventStoreDbEventStore.js';
import { kafkaBus } from '../adapters/kafkaBus.js';
import { mongoCheckpoints } from '../adapters/mongoCheckpoints.js';
import { mongoCounterStore } from '../adapters/mongoCounterStore.js';
import { mongoReadModels } from '../adapters/mongoReadModels.js';
import { namespacedBus } from '../adapters/namespacedBus.js';
import type { Bus, Checkpoints, CounterStore, EventStore, ReadModels } from '../adapters/ports.js';
import { requireServers, type Config } from '../config.js';
import { topics } from '../pipeline/topics.js';

/**
 * The distributed mode: EventStoreDB for the events, MongoDB for read models,
 * checkpoints and rate-limit counters, Kafka between the processes. Each process
 * connects only to what it uses.
 */
export const connect = {
  /**
   * The event store. A subscription that dies for good (its handler failed, or the
   * server refused it for a reason no retry cures) stops the process with a clear
   * message and exit code 1: an idle projector or dispatcher would look alive while
   * doing nothing; a stopped one is restarted (compose `restart`, an orchestrator).
   */
  store: (config: Config, logger: Logger, exit: (code: number) => never): EventStore =>
    upcastingEventStore(
      eventStoreDbEventStore({
        connectionString: requireServers(config, 'EVENTSTORE_URL').EVENTSTORE_URL,
        logger,
        onSubscriptionDied: (error) => {
          logger.fatal(
            { err: error },
            'a subscription to the event store died for good; stopping this process so that it is restarted',
          );
          exit(1);
        },
      }),
      EVENT_VERSIONS,
    ),
  readModels: (config: Config): Promise<ReadModels> =>
    mongoReadModels({ url: requireServers(config, 'MONGODB_URL').MONGODB_URL, database: config.MONGODB_DATABASE }),
  counters: (config: Config): Promise<CounterStore> =>
    mongoCounterStore({ url: requireServers(config, 'MONGODB_URL').MONGODB_URL, database: config.MONGODB_DATABASE }),
  checkpoints: (config: Config): Promise<Checkpoints> =>
    mongoCheckpoints({ url: requireServers(config, 'MONGODB_URL').MONGODB_URL, database: config.MONGODB_DATABASE }),
  async bus(
    config: Config,
    clientId: string,
    logger: Logger,
    options: { longestHandlerMs?: number } = {},
  ): Promise<Bus> {
    const brokers = requireServers(config, 'KAFKA_BROKERS').KAFKA_BROKERS;
    const bus = await kafkaBus({
      brokers,
      clientId,
      logger,
      // A rebalance waits for running handlers: it must outlast the longest one (a scan).
      ...(options.longestHandlerMs ? { rebalanceTimeoutMs: options.longestHandlerMs + 5 * 60_000 } : {}),
      // Cancels matter only to scans running now: a new worker reads the control topic from its end.
      fromBeginning: (topic) => !topic.endsWith(topics.control),
    });
    return namespacedBus(bus, config.SECABLY_TOPIC_PREFIX);
  },
};

export const defaultWorkerId = () => `${hostname()}-${process.pid}`;
