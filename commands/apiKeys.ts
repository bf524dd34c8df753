import { createHash } from 'node:crypto';
import { userDecider } from '../domain/accounts/user.decider.js';
import { UserEvent } from '../domain/accounts/user.events.js';
import { streams, type CommandDeps } from './deps.js';
import { handleCommand } from './handleCommand.js';

/**
 * API keys look like `sk_<key id, 32 hex>_<secret>`: the key id finds the
 * stored hash without a scan, the secret (32 random bytes) is never stored.
 */
const API_KEY_PATTERN = /^sk_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

export function parseApiKey(candidate: string): { keyId: string } | undefined {
  const match = API_KEY_PATTERN.exec(candidate);
  return match ? { keyId: uuidFromHex(match[1] as string) } : undefined;
}

export const looksLikeApiKey = (candidate: string) => candidate.startsWith('sk_');

function uuidFromHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function createApiKey(
  deps: CommandDeps,
  userId: string,
  name: string,
): Promise<{ keyId: string; key: string; prefix: string; createdAt: string }> {
  const keyId = deps.ids.uuid();
  const key = `sk_${keyId.replaceAll('-', '')}_${deps.ids.secret(32)}`;
  const prefix = key.slice(0, 12);
  const createdAt = deps.clock.now().toISOString();
  const result = await handleCommand(deps, streams.user(userId), userDecider, UserEvent, {
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

export async function revokeApiKey(deps: CommandDeps, userId: string, keyId: string): Promise<string> {
  const revokedAt = deps.clock.now().toISOString();
  const result = await handleCommand(deps, streams.user(userId), userDecider, UserEvent, {
    type: 'RevokeApiKey',
    keyId,
    now: revokedAt,
  });
  if (result.position !== undefined) await deps.readModelsAt(result.position);
  return revokedAt;
}
