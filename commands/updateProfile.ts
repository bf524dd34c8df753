import { userDecider } from '../domain/accounts/user.decider.js';
import { UserEvent } from '../domain/accounts/user.events.js';
import { streams, type CommandDeps } from './deps.js';
import { handleCommand } from './handleCommand.js';

/** Only the user's own first and last name can change here (no mass assignment). */
export async function updateProfile(
  deps: CommandDeps,
  userId: string,
  changes: { firstName?: string; lastName?: string },
): Promise<void> {
  const result = await handleCommand(deps, streams.user(userId), userDecider, UserEvent, {
    type: 'UpdateProfile',
    ...changes,
    now: deps.clock.now().toISOString(),
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
}
