import type { ReadModelDocument } from '../adapters/ports.js';
import { UserEvent } from '../domain/accounts/user.events.js';
import { handlesTypes, type Projection } from './projection.js';

/** API keys by key id: how a `Bearer <api_key>` request finds its user. Only the key's hash is kept. */
export interface ApiKeyDocument extends ReadModelDocument {
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export const apiKeysProjection: Projection<ApiKeyDocument> = {
  name: 'api_keys',
  collection: 'api_keys',
  canHandle: handlesTypes(['ApiKeyCreated', 'ApiKeyRevoked']),
  documentId: (event) => String(event.data.keyId),
  evolve(current, event) {
    const e = UserEvent.parse({ type: event.type, data: event.data });
    switch (e.type) {
      case 'ApiKeyCreated':
        return {
          user_id: e.data.userId,
          name: e.data.name,
          prefix: e.data.prefix,
          key_hash: e.data.keyHash,
          created_at: e.data.createdAt,
          revoked_at: null,
        };
      case 'ApiKeyRevoked':
        return current ? { ...current, revoked_at: e.data.revokedAt } : null;
      default:
        return current;
    }
  },
};
