import type { Projection } from './projection.js';
import { apiKeysProjection } from './apiKeys.projection.js';
import { profilesProjection } from './profiles.projection.js';

/** Every read model the API serves. */
export const allProjections: readonly Projection[] = [
  profilesProjection as unknown as Projection,
  apiKeysProjection as unknown as Projection,
];
