/**
 * From template matches to normalized findings (pure).
 *
 * - risk: nuclei's severity (critical, high, medium, low, info; unknown → info);
 * - rule_id: `nuclei.<template-id>` for our templates, `nuclei.user.<template-id>`
 *   for a user's, so the identity of a finding is template id + matched URL;
 * - location: the matched URL, built from the target's name (never its address);
 * - one finding per template and URL (several named matchers on one URL are one
 *   finding whose evidence names them);
 * - references, CVE, CWE and CVSS from `info`; confidence from
 *   `info.metadata.confidence` when given, else high for ours, medium for users'.
 */
import { CONFIDENCES, type Confidence, type Risk, type ScannerFinding } from '../../domain/shared/finding.js';
import type { NucleiResultEvent } from './nucleiResult.js';
import type { CompiledTemplate, NucleiSeverity } from './templateParser.js';

export type TemplateSource = 'bundled' | 'user';

/** A template ready to run, with where it comes from. */
export interface LoadedTemplate {
  readonly template: CompiledTemplate;
  readonly source: TemplateSource;
  /** The file name (ours) or the uploaded template's uuid (users'). */
  readonly ref: string;
  /** For users' templates: the SHA-256 of the YAML that ran. */
  readonly sha256?: string;
}

/** One reported match, with what the finding's evidence needs beyond nuclei's event. */
export interface TemplateMatch {
  readonly loaded: LoadedTemplate;
  readonly event: NucleiResultEvent;
  readonly method: string;
  readonly status: number;
  readonly snippets: readonly string[];
}

const RISK_OF: Readonly<Record<NucleiSeverity, Risk>> = {
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  low: 'low',
  info: 'info',
  unknown: 'info',
};

export function riskOf(severity: string): Risk {
  return RISK_OF[severity as NucleiSeverity] ?? 'info';
}

export function ruleIdOf(loaded: Pick<LoadedTemplate, 'source' | 'template'>): string {
  return loaded.source === 'user' ? `nuclei.user.${loaded.template.id}` : `nuclei.${loaded.template.id}`;
}

function confidenceOf(loaded: LoadedTemplate): Confidence {
  const declared = loaded.template.info.metadata?.confidence;
  if (typeof declared === 'string' && (CONFIDENCES as readonly string[]).includes(declared)) {
    return declared as Confidence;
  }
  return loaded.source === 'bundled' ? 'high' : 'medium';
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function evidenceOf(matches: readonly TemplateMatch[]): string {
  const first = matches[0]!;
  const lines = [`${first.method} ${first.event['matched-at']} → HTTP ${first.status}`];
  const names = [...new Set(matches.map((m) => m.event['matcher-name']).filter((n): n is string => Boolean(n)))];
  if (names.length > 0) lines.push(`matched: ${names.join(', ')}`);
  const snippets = [...new Set(matches.flatMap((m) => m.snippets))].slice(0, 5);
  if (snippets.length > 0) lines.push(`found: ${snippets.map((s) => JSON.stringify(clip(s, 200))).join(', ')}`);
  const extracted = [...new Set(matches.flatMap((m) => m.event['extracted-results'] ?? []))].slice(0, 10);
  if (extracted.length > 0) lines.push(`extracted: ${extracted.map((s) => JSON.stringify(clip(s, 200))).join(', ')}`);
  return clip(lines.join('\n'), 5000);
}

export function nucleiFindings(matches: readonly TemplateMatch[]): ScannerFinding[] {
  const groups = new Map<string, TemplateMatch[]>();
  for (const match of matches) {
    const key = `${ruleIdOf(match.loaded)}\u0000${match.event['matched-at']}`;
    groups.set(key, [...(groups.get(key) ?? []), match]);
  }
  const findings: ScannerFinding[] = [];
  for (const group of groups.values()) {
    const { loaded, event } = group[0]!;
    const { info } = loaded.template;
    const cwe = (info.classification?.['cwe-id'] ?? [])
      .map((id) => Number(/^CWE-(\d+)$/i.exec(id)?.[1]))
      .filter((n) => Number.isInteger(n) && n > 0)
      .slice(0, 20);
    const cve = (info.classification?.['cve-id'] ?? [])
      .map((id) => id.toUpperCase())
      .filter((id) => /^CVE-\d{4}-\d{4,}$/.test(id))
      .slice(0, 100);
    const score = info.classification?.['cvss-score'];
    const vector = info.classification?.['cvss-metrics'];
    const references = info.reference.map((r) => clip(r, 500)).slice(0, 50);
    findings.push({
      name: clip(info.name, 300),
      risk: riskOf(info.severity),
      description: clip(info.description || info.name, 5000),
      solution: clip(
        info.remediation ||
          'Review what the template found at this URL; remove the exposed resource or restrict access to it.',
        5000,
      ),
      evidence: evidenceOf(group),
      location: clip(event['matched-at'], 2000),
      rule_id: ruleIdOf(loaded),
      engine: 'nuclei',
      confidence: confidenceOf(loaded),
      ...(cwe.length > 0 ? { cwe } : {}),
      ...(cve.length > 0 ? { cve } : {}),
      ...(score !== undefined ? { cvss: { score, ...(vector ? { vector: clip(vector, 200) } : {}) } } : {}),
      ...(references.length > 0 ? { references } : {}),
    });
  }
  return findings;
}
