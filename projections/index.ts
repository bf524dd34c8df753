import type { AnyProjection, Projection } from './projection.js';
import { apiKeysProjection } from './apiKeys.projection.js';
import { findingsProjection } from './findings.projection.js';
import { nucleiTemplatesProjection } from './nucleiTemplates.projection.js';
import { creditBalancesProjection, creditLedgerProjection } from './creditLedger.projection.js';
import { pendingReservationsProjection } from './pendingReservations.projection.js';
import { profilesProjection } from './profiles.projection.js';
import { scansProjection } from './scans.projection.js';
import { targetsProjection } from './targets.projection.js';

/** Every read model the API serves. */
export const allProjections: readonly AnyProjection[] = [
  profilesProjection as unknown as Projection,
  apiKeysProjection as unknown as Projection,
  targetsProjection as unknown as Projection,
  scansProjection,
  findingsProjection,
  nucleiTemplatesProjection as unknown as Projection,
  creditLedgerProjection as unknown as Projection,
  creditBalancesProjection as unknown as Projection,
  pendingReservationsProjection as unknown as Projection,
];
