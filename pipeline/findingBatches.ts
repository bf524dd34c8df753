/**
 * Pure: what a worker does with a scanner's output before it reports it — every
 * finding checked against the one finding shape, the same weakness reported twice
 * kept once (same rule and location = same identity on the target), and the
 * findings cut into batches that keep every bus message and every event well
 * under the size budget (adapters/ports.ts: MAX_MESSAGE_BYTES, MAX_APPEND_BYTES).
 */
import { ScannerFinding, type NormalizedScannerFinding } from '../domain/shared/finding.js';

/** Serialized findings per batch at most (a quarter of the budget: room for the envelope and identities). */
export const BATCH_BYTES = 256 * 1024;
export const BATCH_MAX_FINDINGS = 1_000;
/** A scanner's `scan_result` as JSON at most. */
export const MAX_RESULT_BYTES = 512 * 1024;

export class InvalidFindingError extends Error {
  override name = 'InvalidFindingError';
}

/** Checks and normalizes every finding, and merges duplicates (same rule_id and location). */
export function normalizeFindings(raw: readonly unknown[]): NormalizedScannerFinding[] {
  const byIdentity = new Map<string, NormalizedScannerFinding>();
  raw.forEach((candidate, index) => {
    const parsed = ScannerFinding.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidFindingError(
        `the scanner reported an invalid finding (#${index}): ${issue?.path.join('.') || 'finding'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const finding = parsed.data;
    const key = `${finding.rule_id}\u0000${finding.location}`;
    const first = byIdentity.get(key);
    if (!first) {
      byIdentity.set(key, finding);
      return;
    }
    const sources = [...(first.sources ?? [])];
    for (const source of [{ engine: finding.engine, rule_id: finding.rule_id }, ...(finding.sources ?? [])]) {
      if (source.engine !== first.engine && !sources.some((s) => s.engine === source.engine)) sources.push(source);
    }
    if (sources.length > (first.sources?.length ?? 0)) byIdentity.set(key, { ...first, sources: sources.slice(0, 20) });
  });
  return [...byIdentity.values()];
}

/** Consecutive batches of at most BATCH_BYTES of JSON and BATCH_MAX_FINDINGS findings each. */
export function batchFindings<F>(findings: readonly F[]): F[][] {
  const batches: F[][] = [];
  let current: F[] = [];
  let bytes = 0;
  for (const finding of findings) {
    const size = Buffer.byteLength(JSON.stringify(finding)) + 1;
    if (current.length > 0 && (bytes + size > BATCH_BYTES || current.length >= BATCH_MAX_FINDINGS)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(finding);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export function resultBytes(scanResult: Record<string, unknown>): number {
  return Buffer.byteLength(JSON.stringify(scanResult));
}
