import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '../config.js';

/**
 * Runs one process (the embedded service, or a role of the distributed mode):
 * parses the configuration (a bad value stops the process with a message naming
 * it, exit code 2), starts the role, and stops it on SIGTERM/SIGINT, finishing
 * what it is doing first (exit code 0).
 */
export function runProcess(
  role: string,
  start: (config: Config, logger: Logger, exit: (code: number) => never) => Promise<{ stop(): Promise<void> }>,
): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  // Buffered, asynchronous writes to stdout (an access log line per request must not
  // cost a write system call each); flushed synchronously before every exit below.
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'secably', role } }, destination);
  const exit = (code: number): never => {
    destination.flushSync();
    process.exit(code);
  };
  // Lines written in a quiet spell are not held back for long.
  setInterval(() => logger.flush(), 1_000).unref();
  start(config, logger, exit)
    .then((running) => {
      destination.flushSync(); // "listening" / "ready" now, not at the next flush
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        const force = setTimeout(() => {
          logger.error('shutdown took too long; exiting');
          exit(1);
        }, 20_000);
        force.unref();
        running
          .stop()
          .then(() => {
            logger.info('stopped');
            exit(0);
          })
          .catch((error: unknown) => {
            logger.error({ err: error }, 'error while stopping');
            exit(1);
          });
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
    })
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (message.startsWith('Invalid configuration')) {
        process.stderr.write(`${message}\n`);
        exit(2);
      }
      logger.fatal({ err: error }, 'failed to start');
      exit(1);
    });
}
