/**
 * Pure: from NSE script results (parsed nmap XML) to findings.
 *
 * - A script built on nmap's `vulns` library reports tables with a `title` and a
 *   `state` (VULNERABLE, LIKELY VULNERABLE, VULNERABLE (DoS), VULNERABLE (Exploitable));
 *   every such table of one script on one port becomes part of ONE finding
 *   (`rule_id: nse.<script-id>`: stable, whatever the number of tables), with the CVE
 *   ids, the other ids, the CVSS score and the references the script reports; the
 *   risk comes from the script's scores (CVSS bands), else its risk factor, else our
 *   advice table (nse.rules.ts), else the state.
 * - A script with its own wording is read by `NSE_OUTPUT_RULES`.
 * - Anything else (and "ERROR: Script execution failed") is not a finding.
 * Locations: "host:port/tcp" for port scripts, "host" for host scripts, where host is
 * the target's name as the user gave it.
 */
import type { Confidence, Cvss, Risk, ScannerFinding } from '../../domain/shared/finding.js';
import type { NmapResult, NmapScriptElement, NmapScriptResult } from '../nmap/nmapParser.js';
import { NSE_ENGINE } from './engines.js';
import { serviceLocation } from './locations.js';
import { defaultVulnRisk, NSE_OUTPUT_RULES_BY_SCRIPT, VULNS_LIBRARY_ADVICE } from './nse.rules.js';

const MAX_TEXT = 5_000;
const MAX_REFERENCES = 50;
const MAX_CVES = 100;
const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

export interface VulnsLibraryEntry {
  /** The table's key: the first id ("CVE-2014-0160") or an internal counter ("NMAP-18"). */
  readonly key: string | null;
  readonly title: string;
  readonly state: string;
  /** "CVE:CVE-2014-0160", "BID:49303", ... */
  readonly ids: string[];
  readonly description: string;
  readonly references: string[];
  /** Score type → value ("CVSSv2" → "7.5"). */
  readonly scores: Record<string, string>;
  /** "High", "Medium", "Low", from the text output (the XML has no field for it). */
  readonly riskFactor: string | null;
  readonly disclosure: string | null;
  /** check_results, exploit_results, extra_info. */
  readonly details: string[];
}

const truncate = (text: string, max = MAX_TEXT) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function tableOf(elements: readonly NmapScriptElement[], key: string): NmapScriptElement[] | undefined {
  for (const e of elements) if ('table' in e && e.key === key) return e.table;
  return undefined;
}

function valueOf(elements: readonly NmapScriptElement[], key: string): string | undefined {
  for (const e of elements) if ('value' in e && e.key === key) return e.value;
  return undefined;
}

/** Every plain value inside a table, depth first. */
function flatValues(elements: readonly NmapScriptElement[] | undefined): string[] {
  if (!elements) return [];
  return elements.flatMap((e) => ('value' in e ? [e.value] : flatValues(e.table)));
}

function keyedValues(elements: readonly NmapScriptElement[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of elements ?? []) if ('value' in e && e.key !== undefined) out[e.key] = e.value;
  return out;
}

/** The risk factor printed under `title` in the text output ("Risk factor: High  CVSSv2: 7.5"). */
function riskFactorOf(output: string, title: string, nextTitle: string | undefined): string | null {
  const start = output.indexOf(title);
  if (start === -1) return null;
  const end = nextTitle !== undefined ? output.indexOf(nextTitle, start + title.length) : -1;
  const block = output.slice(start, end === -1 ? undefined : end);
  const match = /Risk factor:\s*([A-Za-z]+)/.exec(block);
  return match?.[1] ?? null;
}

/** The `vulns` library tables of a script result (only VULNERABLE-like states). */
export function vulnsLibraryEntries(result: NmapScriptResult): VulnsLibraryEntry[] {
  const tables = result.elements.filter(
    (e): e is { key?: string; table: NmapScriptElement[] } =>
      'table' in e && valueOf(e.table, 'state') !== undefined && valueOf(e.table, 'title') !== undefined,
  );
  const titles = tables.map((t) => valueOf(t.table, 'title') ?? '');
  return tables
    .map((t, index) => {
      const title = (valueOf(t.table, 'title') ?? '').trim();
      const details = ['check_results', 'exploit_results', 'extra_info'].flatMap((k) =>
        flatValues(tableOf(t.table, k)),
      );
      return {
        key: t.key ?? null,
        title,
        state: (valueOf(t.table, 'state') ?? '').trim(),
        ids: flatValues(tableOf(t.table, 'ids')).map((id) => id.trim()),
        description: flatValues(tableOf(t.table, 'description')).join('\n').trim(),
        references: flatValues(tableOf(t.table, 'refs')).map((r) => r.trim()),
        scores: keyedValues(tableOf(t.table, 'scores')),
        riskFactor: riskFactorOf(result.output, titles[index] ?? title, titles[index + 1]),
        disclosure: valueOf(t.table, 'disclosure') ?? null,
        details,
      };
    })
    .filter((entry) => /^(LIKELY )?VULNERABLE/i.test(entry.state));
}

export function riskOfCvss(score: number): Risk {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

const RISK_FACTORS: Readonly<Record<string, Risk>> = {
  critical: 'critical',
  high: 'high',
  medium: 'medium',
  low: 'low',
};
const RISK_ORDER: Readonly<Record<Risk, number>> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

export function mostSevere(risks: readonly Risk[]): Risk {
  return risks.reduce<Risk>((worst, r) => (RISK_ORDER[r] < RISK_ORDER[worst] ? r : worst), 'info');
}

function cvssOf(entry: VulnsLibraryEntry): Cvss | undefined {
  let best: Cvss | undefined;
  for (const [type, raw] of Object.entries(entry.scores)) {
    if (!/^cvss/i.test(type)) continue;
    const match = /^\s*(\d{1,2}(?:\.\d+)?)\s*(?:\(([^)]*)\))?/.exec(raw);
    const score = Number(match?.[1]);
    if (!Number.isFinite(score) || score < 0 || score > 10) continue;
    const vector = match?.[2]?.trim() || (/(?:CVSS:\d\.\d\/)?AV:[A-Z]\/[A-Z:/]+/.exec(raw)?.[0] ?? undefined);
    if (!best || score > best.score) best = vector ? { score, vector: vector.slice(0, 200) } : { score };
  }
  return best;
}

function confidenceOf(states: readonly string[]): Confidence {
  if (states.some((s) => /Exploitable/i.test(s))) return 'confirmed';
  if (states.some((s) => /^VULNERABLE/i.test(s))) return 'high';
  return 'medium';
}

function uniq<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function describeEntry(entry: VulnsLibraryEntry): string {
  const lines = [`${entry.title} — ${entry.state}`];
  if (entry.description) lines.push(entry.description);
  if (entry.details.length > 0) lines.push(`Check results: ${entry.details.join('; ')}`);
  if (entry.disclosure) lines.push(`Disclosed: ${entry.disclosure}`);
  return lines.join('\n');
}

/** One finding for every vulns-library table of one script at one location. */
function vulnsLibraryFinding(
  result: NmapScriptResult,
  entries: readonly VulnsLibraryEntry[],
  location: string,
): ScannerFinding {
  const advice = VULNS_LIBRARY_ADVICE[result.id];
  const scores = entries.map(cvssOf).filter((c): c is Cvss => c !== undefined);
  const cvss = scores.reduce<Cvss | undefined>((best, c) => (!best || c.score > best.score ? c : best), undefined);
  const risks = entries.map((entry) => {
    const scored = cvssOf(entry);
    if (scored) return riskOfCvss(scored.score);
    const factor = entry.riskFactor ? RISK_FACTORS[entry.riskFactor.toLowerCase()] : undefined;
    if (factor) return factor;
    return advice?.risk ?? defaultVulnRisk(entry.state);
  });
  const allIds = uniq(entries.flatMap((e) => e.ids));
  const cve = uniq(
    allIds
      .map((id) => id.replace(/^CVE:/i, ''))
      .map((id) => id.toUpperCase())
      .filter((id) => CVE_ID.test(id)),
  ).slice(0, MAX_CVES);
  const otherIds = allIds.filter((id) => !/^CVE:/i.test(id));
  const references = uniq([...entries.flatMap((e) => e.references), ...otherIds])
    .filter((r) => r.length > 0 && r.length <= 500)
    .slice(0, MAX_REFERENCES);
  const [first] = entries;
  const name =
    entries.length === 1
      ? (first?.title ?? result.id)
      : `${first?.title ?? result.id} (and ${entries.length - 1} more from ${result.id})`;
  const solution =
    advice?.solution ??
    (cve.length > 0
      ? `Apply the vendor fix for ${cve.join(', ')} (see the references) or upgrade the affected software, then scan again.`
      : 'Follow the references for the vendor fix or configuration change, apply it and scan again.');
  return {
    name: truncate(name, 300),
    risk: mostSevere(risks),
    description: truncate(`nmap's ${result.id} script reports:\n\n${entries.map(describeEntry).join('\n\n')}`),
    solution,
    evidence: truncate(`nmap NSE ${result.id}:${result.output}`),
    location,
    rule_id: `nse.${result.id}`,
    engine: NSE_ENGINE,
    confidence: confidenceOf(entries.map((e) => e.state)),
    ...(advice?.cwe ? { cwe: [...advice.cwe] } : {}),
    ...(cve.length > 0 ? { cve } : {}),
    ...(cvss ? { cvss } : {}),
    ...(references.length > 0 ? { references } : {}),
  };
}

/** The finding one script result makes at `location`, or null. */
export function nseScriptFinding(result: NmapScriptResult, location: string): ScannerFinding | null {
  if (/^\s*ERROR:/.test(result.output)) return null;
  const entries = vulnsLibraryEntries(result);
  if (entries.length > 0) return vulnsLibraryFinding(result, entries, location);
  const rule = NSE_OUTPUT_RULES_BY_SCRIPT.get(result.id);
  const match = rule?.match(result);
  if (!rule || !match) return null;
  return {
    name: match.name,
    risk: match.risk,
    description: rule.description,
    solution: rule.solution,
    evidence: truncate(`nmap NSE ${result.id}: ${result.output.trim()}${match.detail ? `\n(${match.detail})` : ''}`),
    location,
    rule_id: `nse.${result.id}`,
    engine: NSE_ENGINE,
    confidence: 'high',
    ...(rule.cwe ? { cwe: [...rule.cwe] } : {}),
    ...(rule.references ? { references: [...rule.references] } : {}),
  };
}

export interface NseFindingsOptions {
  /** The name of the scanned address in locations (the target's hostname). */
  readonly hostLabel: string;
}

/** Every NSE finding of a parsed nmap run (port scripts and host scripts). */
export function nseFindings(result: NmapResult, options: NseFindingsOptions): ScannerFinding[] {
  const findings: ScannerFinding[] = [];
  for (const host of result.hosts) {
    for (const port of host.open_ports) {
      for (const script of port.scripts ?? []) {
        const finding = nseScriptFinding(script, serviceLocation(options.hostLabel, port.port, port.protocol));
        if (finding) findings.push(finding);
      }
    }
    for (const script of host.host_scripts ?? []) {
      const finding = nseScriptFinding(script, options.hostLabel);
      if (finding) findings.push(finding);
    }
  }
  return findings;
}
