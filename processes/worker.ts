import { systemClock } from '../adapters/systemClock.js';
import type { ScannerType } from '../domain/scans/scan.events.js';
import { SCANNERS } from '../scanners/registry.js';
import { scanWorker } from '../pipeline/worker.js';
import { scannersFor, targetGuardDeps } from './composition.js';
import { connect, defaultWorkerId } from './distributed.js';
import { runProcess } from './runProcess.js';

/** Longer than any scan profile's timeout (nmap full: 61 min): a scan job is one Kafka handler. */
const LONGEST_SCAN_MS = 2 * 3_600_000;

/** `--scanners nmap,sslyze` on the command line wins over SECABLY_SCANNERS. */
function scannersFromArgv(argv: readonly string[]): ScannerType[] | undefined {
  const index = argv.indexOf('--scanners');
  const value =
    index >= 0 ? argv[index + 1] : argv.find((a) => a.startsWith('--scanners='))?.slice('--scanners='.length);
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = list.filter((s) => !SCANNERS.types.includes(s));
  if (unknown.length || list.length === 0) {
    throw new Error(
      `Invalid configuration:\n  --scanners: unknown scanner(s) ${unknown.join(', ')}; known: ${SCANNERS.types.join(', ')}`,
    );
  }
  return list as ScannerType[];
}

/**
 * Distributed mode: a scanner worker. Talks only to Kafka (jobs in, reports out)
 * and to the targets it scans; any number of copies, each running up to
 * SECABLY_WORKER_CONCURRENCY scans per scanner.
 */
runProcess('worker', async (config, logger) => {
  const workerId = config.SECABLY_WORKER_ID ?? defaultWorkerId();
  const scannerTypes = scannersFromArgv(process.argv.slice(2)) ?? config.SECABLY_SCANNERS;
  const scanners = scannersFor({});
  const bus = await connect.bus(config, `secably-worker-${workerId}`, logger, { longestHandlerMs: LONGEST_SCAN_MS });
  const worker = scanWorker({
    bus,
    scanners,
    settings: config,
    ...(scannerTypes ? { scannerTypes } : {}),
    targetGuard: targetGuardDeps(config, {}),
    clock: systemClock,
    logger,
    workerId,
    concurrency: config.SECABLY_WORKER_CONCURRENCY,
    heartbeatMs: config.SECABLY_WORKER_HEARTBEAT_MS,
  });
  await worker.start();
  logger.info({ workerId, scanners: scannerTypes ?? 'all available' }, 'worker ready');
  return {
    async stop() {
      await worker.stop();
      await bus.close();
    },
  };
});
