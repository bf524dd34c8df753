import { type CommandDeps } from './deps.js';
import { users } from './aggregates.js';

/** Only the user's own first and last name can change here (no mass assignment). */
export async function updateProfile(
  deps: CommandDeps,
  userId: string,
  changes: { firstName?: string; lastName?: string },
): Promise<void> {
  const result = await users.handle(deps, userId, {
    type: 'UpdateProfile',
    ...changes,
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
}
