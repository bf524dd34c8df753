import { targets } from './aggregates.js';
import type { CommandDeps } from './deps.js';

export interface TargetChanges {
  readonly name?: string;
  readonly description?: string;
  readonly active?: boolean;
}

/** Renames, re-describes or (de)activates one of the user's targets; its value never changes. */
export async function updateTarget(
  deps: CommandDeps,
  userId: string,
  targetId: string,
  changes: TargetChanges,
): Promise<void> {
  const result = await targets.handle(deps, targetId, {
    type: 'UpdateTarget',
    userId,
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.description !== undefined ? { description: changes.description } : {}),
    ...(changes.active !== undefined ? { active: changes.active } : {}),
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
}
