import {
  EventTooLargeError,
  type Bus,
  type BusConsumer,
  type Clock,
  type EventStore,
  type Ids,
} from '../adapters/ports.js';
import { type ScanCommand } from '../domain/scans/scan.decider.js';
import { DomainError } from '../domain/shared/decider.js';
import type { PipelineLogger } from './checkpointedSubscription.js';
import { ScanReport, topics } from './topics.js';
import { scans } from '../commands/aggregates.js';

/**
 * Appends what workers report to the scan's stream, through the scan decider:
 * a report about another attempt, or about a scan that has ended, changes nothing.
 * The bus message counts as handled only once the append is durable.
 */
export function resultsConsumer(deps: { store: EventStore; bus: Bus; clock: Clock; ids: Ids; logger: PipelineLogger }) {
  let consumer: BusConsumer | undefined;

  function command(report: ScanReport): ScanCommand {
    switch (report.kind) {
      case 'started':
        return { type: 'StartScan', attempt: report.attempt, workerId: report.workerId, now: report.at };
      case 'progress':
        return {
          type: 'ReportProgress',
          attempt: report.attempt,
          percent: report.percent,
          phase: report.phase,
          now: report.at,
        };
      case 'findings':
        return {
          type: 'ReportFindings',
          attempt: report.attempt,
          batch: report.batch,
          findings: report.findings,
          now: report.at,
        };
      case 'completed':
        return {
          type: 'CompleteScan',
          attempt: report.attempt,
          findingsCount: report.findingsCount,
          batches: report.batches,
          scanResult: report.scanResult,
          now: report.at,
        };
      case 'failed':
        return { type: 'FailScan', attempt: report.attempt, code: report.code, reason: report.reason, now: report.at };
    }
  }

  async function fail(scanId: string, attempt: number, code: string, reason: string): Promise<void> {
    try {
      await scans.handle(deps, scanId, {
        type: 'FailScan',
        attempt,
        code,
        reason,
        now: deps.clock.now().toISOString(),
      });
    } catch (error) {
      if (!(error instanceof DomainError && error.kind === 'not_found')) throw error;
    }
  }

  return {
    async start() {
      consumer = await deps.bus.subscribe(topics.results, 'results', async (message) => {
        const parsed = ScanReport.safeParse(message.value);
        if (!parsed.success) {
          const issues = parsed.error.issues.slice(0, 3);
          deps.logger.warn({ key: message.key, issues }, 'malformed scan report');
          // A report we cannot read would leave its scan waiting for the watchdog: fail it now.
          const { scanId, attempt } = message.value as { scanId?: unknown; attempt?: unknown };
          if (typeof scanId === 'string' && Number.isInteger(attempt)) {
            await fail(
              scanId,
              attempt as number,
              'report_invalid',
              `the worker sent an invalid report: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
            );
          }
          return;
        }
        try {
          await scans.handle(deps, parsed.data.scanId, command(parsed.data));
        } catch (error) {
          if (error instanceof DomainError && error.kind === 'not_found') {
            deps.logger.warn({ scanId: parsed.data.scanId }, 'report for an unknown scan dropped');
            return;
          }
          if (error instanceof EventTooLargeError) {
            // Permanent for this report (retrying cannot help): the scan fails, nothing else does.
            await fail(parsed.data.scanId, parsed.data.attempt, 'result_too_large', error.message);
            return;
          }
          throw error; // redelivered by the bus
        }
      });
    },
    async stop() {
      await consumer?.stop();
      consumer = undefined;
    },
  };
}
