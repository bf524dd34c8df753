import type { Bus, BusConsumer, Clock, EventStore, Ids } from '../adapters/ports.js';
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
      case 'completed':
        return {
          type: 'CompleteScan',
          attempt: report.attempt,
          findings: report.findings,
          scanResult: report.scanResult,
          now: report.at,
        };
      case 'failed':
        return { type: 'FailScan', attempt: report.attempt, code: report.code, reason: report.reason, now: report.at };
    }
  }

  return {
    async start() {
      consumer = await deps.bus.subscribe(topics.results, 'results', async (message) => {
        const parsed = ScanReport.safeParse(message.value);
        if (!parsed.success) {
          deps.logger.warn(
            { key: message.key, issues: parsed.error.issues.slice(0, 3) },
            'dropping malformed scan report',
          );
          return;
        }
        try {
          await scans.handle(deps, parsed.data.scanId, command(parsed.data));
        } catch (error) {
          if (error instanceof DomainError && error.kind === 'not_found') {
            deps.logger.warn({ scanId: parsed.data.scanId }, 'report for an unknown scan dropped');
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
