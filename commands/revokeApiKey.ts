import { users } from './aggregates.js';
import type { CommandDeps } from './deps.js';

export async function revokeApiKey(deps: CommandDeps, userId: string, keyId: string): Promise<string> {
  const revokedAt = deps.clock.now().toISOString();
  const result = await users.handle(deps, userId, {
    type: 'RevokeApiKey',
    keyId,
    now: revokedAt,
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return revokedAt;
}
