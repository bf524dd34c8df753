import { createHash } from 'node:crypto';

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
