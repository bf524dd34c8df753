/**
 * A finding's life across the scans of one target (pure).
 *
 * - Seen for the first time: `new`. Seen again by a later scan: `open`.
 * - `fixed`: a later completed scan of the same target and scanner, with a coverage
 *   that once reported this finding, did not report it. A scan that never looked
 *   where the finding is (another coverage: a quick scan after a full one, another
 *   port range) never fixes it; nor does a scan that started before the finding was
 *   last seen (two scans running at once), nor one that failed or was cancelled.
 * - Seen again after being fixed: `reopened`; seen once more: `open`.
 */
export const FINDING_STATUSES = ['new', 'open', 'fixed', 'reopened'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** Statuses a later scan may fix. */
export const UNRESOLVED: readonly FindingStatus[] = ['new', 'open', 'reopened'];

/** What the lifecycle remembers of one finding on one target. */
export interface FindingTrack {
  readonly status: FindingStatus;
  /** The scan that last reported it. */
  readonly lastScanId: string;
  /** When it was last reported (ISO 8601). */
  readonly lastSeen: string;
  /** Coverage keys of the scans that reported it (they look where it is). */
  readonly coverages: readonly string[];
}

export interface Sighting {
  readonly scanId: string;
  readonly coverage: string;
  readonly at: string;
}

export interface CompletedScan {
  readonly scanId: string;
  readonly coverage: string;
  /** When the completed scan started (ISO 8601). */
  readonly startedAt: string;
}

/** The track after a scan reported the finding (`undefined`: never seen before). */
export function afterSighting(track: FindingTrack | undefined, sighting: Sighting): FindingTrack {
  const coverages = track?.coverages.includes(sighting.coverage)
    ? track.coverages
    : [...(track?.coverages ?? []), sighting.coverage].slice(-20);
  const status: FindingStatus = !track
    ? 'new'
    : track.lastScanId === sighting.scanId
      ? track.status // another batch of the same scan
      : track.status === 'fixed'
        ? 'reopened'
        : 'open';
  const lastSeen = track && track.lastSeen > sighting.at ? track.lastSeen : sighting.at;
  return { status, lastScanId: sighting.scanId, lastSeen, coverages };
}

/** Whether a completed scan that did not report the finding fixes it. */
export function fixedBy(track: FindingTrack, scan: CompletedScan): boolean {
  return (
    UNRESOLVED.includes(track.status) &&
    track.lastScanId !== scan.scanId &&
    track.coverages.includes(scan.coverage) &&
    track.lastSeen <= scan.startedAt
  );
}

/** The findings of a scan compared with those of an earlier comparable scan (by fingerprint). */
export function compareScans(
  current: Iterable<string>,
  previous: Iterable<string>,
): { readonly added: string[]; readonly fixed: string[]; readonly unchanged: string[] } {
  const now = new Set(current);
  const before = new Set(previous);
  return {
    added: [...now].filter((f) => !before.has(f)),
    fixed: [...before].filter((f) => !now.has(f)),
    unchanged: [...now].filter((f) => before.has(f)),
  };
}
