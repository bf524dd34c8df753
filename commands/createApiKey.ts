import { hashApiKey } from './apiKeyFormat.js';
import { users } from './aggregates.js';
import type { CommandDeps } from './deps.js';

/** Creates an API key for the user: shown once; only its SHA-256 is stored. */
export async function createApiKey(
  deps: CommandDeps,
  userId: string,
  name: string,
): Promise<{ keyId: string; key: string; prefix: string; createdAt: string }> {
  const keyId = deps.ids.uuid();
  const key = `sk_${keyId.replaceAll('-', '')}_${deps.ids.secret(32)}`;
  const prefix = key.slice(0, 12);
  const createdAt = deps.clock.now().toISOString();
  const result = await users.handle(deps, userId, {
    type: 'CreateApiKey',
    keyId,
    name,
    prefix,
    keyHash: hashApiKey(key),
    now: createdAt,
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return { keyId, key, prefix, createdAt };
}
