import { RISKS, type Finding, type Risk } from '../shared/finding.js';

/**
 * One scoring function for every scanner (spec part 2, item 5).
 *
 * - `risk_level`: the most severe risk among the findings; `info` when there is
 *   none above info (an empty result is `info` too: the scan ran and found nothing).
 * - `security_score`: 100 minus a weight per finding — critical 40, high 20,
 *   medium 8, low 3, info 0 — floored at 0. 100 means nothing found.
 * - `vulnerabilities_by_risk`: counts per risk, keyed as the reference shows
 *   them (`High`, `Medium`, `Low`, `Informational`) plus `Critical`.
 * - `vulnerabilities_found`: findings above info (what a user calls a vulnerability).
 */
export const RISK_WEIGHTS: Readonly<Record<Risk, number>> = { critical: 40, high: 20, medium: 8, low: 3, info: 0 };

export const RISK_LABELS: Readonly<Record<Risk, string>> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  info: 'Informational',
};

export interface ScanSummary {
  readonly riskLevel: Risk;
  readonly securityScore: number;
  readonly vulnerabilitiesFound: number;
  readonly byRisk: Readonly<Record<string, number>>;
}

export function summarize(findings: readonly Pick<Finding, 'risk'>[]): ScanSummary {
  const counts: Record<Risk, number> = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const finding of findings) counts[finding.risk] += 1;
  return summarizeCounts(counts);
}

/** The same summary from counts per risk (a scan reported in batches keeps only counts). */
export function summarizeCounts(counts: Readonly<Record<Risk, number>>): ScanSummary {
  const total = RISKS.reduce((sum, risk) => sum + counts[risk], 0);
  const riskLevel = RISKS.find((risk) => risk !== 'info' && counts[risk] > 0) ?? 'info';
  const penalty = RISKS.reduce((sum, risk) => sum + counts[risk] * RISK_WEIGHTS[risk], 0);
  return {
    riskLevel,
    securityScore: Math.max(0, 100 - penalty),
    vulnerabilitiesFound: total - counts.info,
    byRisk: Object.fromEntries(RISKS.map((risk) => [RISK_LABELS[risk], counts[risk]])),
  };
}
