/**
 * Pure: the last steps of a vulnerability scan — capping findings, summarizing them,
 * and keeping `scan_result` under its size budget (512 KiB; we aim below 480 KiB so the
 * event around it fits too).
 *
 * Cutting order when the result is too large (each step only if still needed):
 * 1. engines' per-endpoint results; 2. informational NSE output per service;
 * 3. banners; 4. the service list itself (first services kept). `truncated` says so.
 * Findings are never cut here; `capFindings` keeps the most severe ones when there
 * are more than MAX_FINDINGS.
 */
import type { Risk, ScannerFinding } from '../../domain/shared/finding.js';
import type { VulnScanResult } from './vulnResultSchema.js';

export const MAX_RESULT_BYTES = 480 * 1024;
export const MAX_FINDINGS = 5_000;
export const MAX_ENDPOINT_RESULT_BYTES = 32 * 1024;
export const MAX_SCRIPT_OUTPUT_CHARS = 1_000;

const RISK_ORDER: Readonly<Record<Risk, number>> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

export function capFindings(
  findings: readonly ScannerFinding[],
  max = MAX_FINDINGS,
): {
  findings: ScannerFinding[];
  dropped: number;
} {
  if (findings.length <= max) return { findings: [...findings], dropped: 0 };
  const kept = findings
    .map((finding, index) => ({ finding, index }))
    .sort((a, b) => RISK_ORDER[a.finding.risk] - RISK_ORDER[b.finding.risk] || a.index - b.index)
    .slice(0, max)
    .sort((a, b) => a.index - b.index)
    .map(({ finding }) => finding);
  return { findings: kept, dropped: findings.length - max };
}

export function findingsSummary(
  findings: readonly ScannerFinding[],
  merged: number,
  dropped: number,
): VulnScanResult['findings_summary'] {
  const by_risk: Record<string, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  const by_engine: Record<string, number> = {};
  for (const finding of findings) {
    by_risk[finding.risk] = (by_risk[finding.risk] ?? 0) + 1;
    by_engine[finding.engine] = (by_engine[finding.engine] ?? 0) + 1;
    for (const source of finding.sources ?? []) by_engine[source.engine] = (by_engine[source.engine] ?? 0) + 1;
  }
  return { total: findings.length, by_risk, by_engine, merged, dropped };
}

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/** An engine's result for one endpoint, or undefined when it is too large to keep. */
export function boundedEngineResult(result: Record<string, unknown>): Record<string, unknown> | undefined {
  try {
    return jsonBytes(result) <= MAX_ENDPOINT_RESULT_BYTES ? result : undefined;
  } catch {
    return undefined; // not JSON-serializable
  }
}

export function boundedText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The result, cut step by step until it fits `maxBytes`. */
export function boundResult(result: VulnScanResult, maxBytes = MAX_RESULT_BYTES): VulnScanResult {
  if (jsonBytes(result) <= maxBytes) return result;
  let current: VulnScanResult = {
    ...result,
    truncated: true,
    engines: result.engines.map((e) => ({
      ...e,
      ...(e.endpoints ? { endpoints: e.endpoints.map(({ result: _dropped, ...rest }) => rest) } : {}),
    })),
  };
  if (jsonBytes(current) <= maxBytes) return current;
  current = { ...current, services: current.services.map(({ scripts: _scripts, ...rest }) => rest) };
  if (jsonBytes(current) <= maxBytes) return current;
  current = { ...current, services: current.services.map(({ banner: _banner, ...rest }) => rest) };
  if (jsonBytes(current) <= maxBytes) return current;
  // Keep as many services as fit (binary search on the count).
  let low = 0;
  let high = current.services.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (jsonBytes({ ...current, services: current.services.slice(0, mid) }) <= maxBytes) low = mid;
    else high = mid - 1;
  }
  current = { ...current, services: current.services.slice(0, low) };
  if (jsonBytes(current) <= maxBytes) return current;
  // Last resort: engines' endpoint lists and errors.
  return { ...current, engines: current.engines.map(({ endpoints: _endpoints, ...rest }) => rest) };
}
