import { randomBytes, randomUUID } from 'node:crypto';
import type { Ids } from './ports.js';

export const cryptoIds: Ids = {
  uuid: () => randomUUID(),
  secret: (bytes) => randomBytes(bytes).toString('base64url'),
};
