import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { eventStoreDbEventStore } from '../adapters/eventStoreDbEventStore.js';
import { kafkaBus } from '../adapters/kafkaBus.js';
import { mongoCheckpoints } from '../adapters/mongoCheckpoints.js';
import { mongoCounterStore } from '../adapters/mongoCounterStore.js';
import { mongoReadModels } from '../adapters/mongoReadModels.js';
import { namespacedBus } from '../adapters/namespacedBus.js';
import type { Bus, Checkpoints, CounterStore, EventStore, ReadModels } from '../adapters/ports.js';
import { loadConfig, requireServers, type Config } from '../config.js';
import { topics } from '../pipeline/topics.js';

/**
 * The distributed mode: EventStoreDB for the events, MongoDB for read models,
 * checkpoints and rate-limit counters, Kafka between the processes. Each process
 * connects only to what it uses.
 */
export const connect = {
  store: (config: Config): EventStore =>
    eventStoreDbEventStore({ connectionString: requireServers(config, 'EVENTSTORE_URL').EVENTSTORE_URL }),
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

/**
 * Runs one process of the distributed mode: parses the configuration (a bad value
 * stops the process with a message naming it), starts the role, and stops it on
 * SIGTERM/SIGINT (finishing what it is doing first).
 */
export function runProcess(
  role: string,
  start: (config: Config, logger: Logger) => Promise<{ stop(): Promise<void> }>,
): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'secably', role } });
  start(config, logger)
    .then((running) => {
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        const force = setTimeout(() => {
          logger.error('shutdown took too long; exiting');
          process.exit(1);
        }, 20_000);
        force.unref();
        running
          .stop()
          .then(() => {
            logger.info('stopped');
            logger.flush();
            process.exit(0);
          })
          .catch((error: unknown) => {
            logger.error({ err: error }, 'error while stopping');
            process.exit(1);
          });
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    })
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (message.startsWith('Invalid configuration')) {
        process.stderr.write(`${message}\n`);
        process.exit(2);
      }
      logger.fatal({ err: error }, 'failed to start');
      process.exit(1);
    });
}
