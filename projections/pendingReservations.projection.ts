import type { ReadModelDocument } from '../adapters/ports.js';
import { handlesTypes, type Projection } from './projection.js';

/**
 * Reservations whose scan has not been written yet, by scan id: created by
 * `CreditsReserved`, gone with the scan's `ScanRequested` (or the reservation's
 * spend or refund). Normally a document lives a few milliseconds, between the two
 * appends of a scan request; one that stays is a reservation whose request died in
 * between, and the credits policy refunds it after its grace period. Kept in the
 * store's own terms (a projection, rebuilt by replay), not in a process's memory,
 * so a restart forgets nothing.
 */
export interface PendingReservationDocument extends ReadModelDocument {
  account_id: string;
  credits: number;
  reserved_at: string;
  /** Always true: what the policy queries (an index on it skips the deleted ones' tombstones). */
  pending: true;
}

export const pendingReservationsProjection: Projection<PendingReservationDocument> = {
  name: 'pending_reservations',
  collection: 'pending_reservations',
  canHandle: handlesTypes(['CreditsReserved', 'ScanRequested', 'CreditsSpent', 'CreditsRefunded']),
  documentId: (event) => String(event.data.scanId),
  evolve(_current, event) {
    if (event.type !== 'CreditsReserved') return null;
    return {
      account_id: String(event.data.accountId),
      credits: Number(event.data.credits),
      reserved_at: String(event.data.reservedAt),
      pending: true,
    };
  },
};
