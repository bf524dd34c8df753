import type { CommandDeps } from './deps.js';
import { scans } from './aggregates.js';

/** Cancels one of the user's scans (a pending or running one; an ended scan is a conflict). */
export async function cancelScan(deps: CommandDeps, userId: string, scanId: string) {
  const result = await scans.handle(deps, scanId, {
    type: 'CancelScan',
    userId,
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return result.state;
}
