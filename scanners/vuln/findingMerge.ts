/**
 * Pure: one finding per weakness across engines. When nmap's NSE and our TLS engine
 * (or the web or template engine) report the same weakness at the same endpoint, the
 * scan reports ONE finding: the dedicated engine's, with the others listed in
 * `sources` and their CVE ids, references, CWE and evidence folded in, at the most
 * severe risk and the highest confidence any of them gave.
 *
 * Two findings are the same weakness when they point at the same endpoint (host and
 * port, whatever the location's form: "host:443/tcp", "host:443", "https://host/") and
 * - share a CVE id, or
 * - fall in the same row of `WEAKNESS_EQUIVALENCES` (by rule id, or by name for the
 *   engines whose rule ids are numbers, like ZAP's).
 * Only findings of different engines merge, and a finding merges into the first
 * finding of a higher-priority engine only (dedicated engines first: tls, web,
 * templates, then nmap's NSE, then nmap's port findings), so two findings of one
 * engine are never folded together. Exact duplicates (same engine, rule and location)
 * are folded as well.
 */
import type { Confidence, Risk, ScannerFinding } from '../../domain/shared/finding.js';
import { endpointOf } from './locations.js';

/** Which part of the scan produced a finding; earlier = more authoritative when merging. */
export const FINDING_ORIGINS = ['tls', 'web', 'templates', 'services', 'discovery'] as const;
export type FindingOrigin = (typeof FINDING_ORIGINS)[number];

export interface OriginFinding {
  readonly origin: FindingOrigin;
  readonly finding: ScannerFinding;
}

export interface WeaknessEquivalence {
  /** Our name for the weakness. */
  readonly weakness: string;
  /** NSE script ids (rule ids `nse.<id>`). */
  readonly nseScripts: readonly string[];
  /** Rule ids of other engines (matched against `rule_id`). */
  readonly ruleIds: RegExp;
  /** Finding names (for engines whose rule ids say nothing, e.g. ZAP's numbers). */
  readonly names?: RegExp;
  readonly cves?: readonly string[];
}

/**
 * The equivalence table. Our engines are matched by words in their rule ids
 * (`tls.heartbleed`, `heartbleed`, `TLS_HEARTBLEED` all match /heartbleed/).
 */
export const WEAKNESS_EQUIVALENCES: readonly WeaknessEquivalence[] = [
  {
    weakness: 'heartbleed',
    nseScripts: ['ssl-heartbleed'],
    ruleIds: /heartbleed/i,
    cves: ['CVE-2014-0160'],
  },
  {
    weakness: 'ssl3-poodle',
    nseScripts: ['ssl-poodle'],
    ruleIds: /poodle|ssl[-_.]?v?3(?![0-9])|ssl[-_.]?3[-_.]?0/i,
    names: /\bSSL\s*(v3|3\.0)\b|POODLE/i,
    cves: ['CVE-2014-3566'],
  },
  {
    weakness: 'sslv2-drown',
    nseScripts: ['sslv2', 'sslv2-drown'],
    ruleIds: /drown|ssl[-_.]?v?2(?![0-9])|ssl[-_.]?2[-_.]?0/i,
    names: /\bSSL\s*(v2|2\.0)\b|DROWN/i,
    cves: ['CVE-2016-0800', 'CVE-2015-3197', 'CVE-2016-0703'],
  },
  {
    weakness: 'ccs-injection',
    nseScripts: ['ssl-ccs-injection'],
    ruleIds: /ccs[-_.]?injection|early[-_.]?ccs/i,
    cves: ['CVE-2014-0224'],
  },
  {
    weakness: 'weak-dh',
    nseScripts: ['ssl-dh-params'],
    ruleIds: /logjam|weak[-_.]?dh|dh[-_.]?(param|group|key|prime)|dhe?[-_.]?(1024|512|export|weak)|insecure[-_.]?dh/i,
    names: /Diffie[- ]Hellman|Logjam|\bDHE?\b.*(weak|small|insufficient|bits)/i,
    cves: ['CVE-2015-4000'],
  },
  {
    weakness: 'ticketbleed',
    nseScripts: ['tls-ticketbleed'],
    ruleIds: /ticketbleed/i,
    cves: ['CVE-2016-9244'],
  },
  {
    weakness: 'known-private-key',
    nseScripts: ['ssl-known-key'],
    ruleIds: /known[-_.]?(private[-_.]?)?key|debian[-_.]?weak[-_.]?key|compromised[-_.]?key/i,
  },
  {
    weakness: 'roca',
    nseScripts: ['rsa-vuln-roca'],
    ruleIds: /roca/i,
    cves: ['CVE-2017-15361'],
  },
  {
    weakness: 'exposed-git',
    nseScripts: ['http-git'],
    ruleIds:
      /(^|[^a-z])git([-_.](config|head|repo|repository|directory|exposure|disclosure|folder)|$)|exposed[-_.]?git|\.git\b/i,
    names: /\.git\b|Git (repository|metadata|directory|folder)/i,
  },
  {
    weakness: 'exposed-svn',
    nseScripts: ['http-svn-info', 'http-svn-enum'],
    ruleIds: /(^|[^a-z])svn([-_.](entries|wc|repo|exposure|disclosure)|$)|\.svn\b/i,
    names: /\.svn\b|Subversion/i,
  },
  {
    weakness: 'http-trace',
    nseScripts: ['http-trace'],
    ruleIds: /(^|[^a-z])trace([-_.](method|enabled)|$)|xst|cross[-_.]?site[-_.]?tracing/i,
    names: /\bTRACE\b|cross[- ]site tracing/i,
  },
  {
    weakness: 'session-cookie-flags',
    nseScripts: ['http-cookie-flags'],
    // ZAP: 10010 Cookie No HttpOnly Flag, 10011 Cookie Without Secure Flag.
    ruleIds:
      /(^|\D)1001[01]($|\D)|httponly|cookie[-_.]?(no[-_.]?|without[-_.]?|missing[-_.]?)?(secure|http[-_.]?only)/i,
    names: /cookie.*(httponly|secure)/i,
  },
  {
    weakness: 'directory-listing',
    nseScripts: ['http-ls'],
    // ZAP: 0 Directory Browsing (active), 10033 Directory Browsing.
    ruleIds: /(^|\D)10033($|\D)|directory[-_.]?(listing|browsing|indexing)|dir[-_.]?listing/i,
    names: /directory (listing|browsing)/i,
  },
  {
    weakness: 'slowloris',
    nseScripts: ['http-slowloris-check'],
    ruleIds: /slowloris|slow[-_.]?http/i,
  },
];

const RISK_ORDER: Readonly<Record<Risk, number>> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
const CONFIDENCE_ORDER: Readonly<Record<Confidence, number>> = { confirmed: 0, high: 1, medium: 2, low: 3 };
const NSE_RULE = /^nse\.(.+)$/;

/** The weaknesses a finding is, by the equivalence table. */
export function weaknessesOf(finding: ScannerFinding): string[] {
  const nse = NSE_RULE.exec(finding.rule_id)?.[1];
  const keys: string[] = [];
  for (const row of WEAKNESS_EQUIVALENCES) {
    const matches =
      nse !== undefined
        ? row.nseScripts.includes(nse)
        : row.ruleIds.test(finding.rule_id) || (row.names?.test(finding.name) ?? false);
    if (matches) keys.push(row.weakness);
  }
  return keys;
}

function cvesOf(finding: ScannerFinding): string[] {
  const cves = new Set(finding.cve ?? []);
  for (const row of WEAKNESS_EQUIVALENCES) {
    if (weaknessesOf(finding).includes(row.weakness)) for (const cve of row.cves ?? []) cves.add(cve);
  }
  return [...cves];
}

interface Candidate {
  /** Position in the input (the output keeps input order within a risk). */
  readonly index: number;
  readonly origin: FindingOrigin;
  readonly rank: number;
  readonly endpoint: string;
  readonly weaknesses: readonly string[];
  readonly cves: readonly string[];
  finding: ScannerFinding;
}

function endpointKey(location: string): string {
  const endpoint = endpointOf(location);
  return `${endpoint.host}|${endpoint.port ?? ''}`;
}

function sameWeakness(a: Candidate, b: Candidate): boolean {
  if (a.endpoint !== b.endpoint) return false;
  if (a.weaknesses.some((w) => b.weaknesses.includes(w))) return true;
  return a.cves.some((cve) => b.cves.includes(cve));
}

const uniq = <T>(items: readonly T[]): T[] => [...new Set(items)];
const cap = (text: string, max = 5_000) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** `into` with `other` folded in (`asSource`: list `other` as another engine's report). */
function fold(into: ScannerFinding, other: ScannerFinding, asSource: boolean): ScannerFinding {
  const cve = uniq([...(into.cve ?? []), ...(other.cve ?? [])]).slice(0, 100);
  const references = uniq([...(into.references ?? []), ...(other.references ?? [])]).slice(0, 50);
  const cwe = uniq([...(into.cwe ?? []), ...(other.cwe ?? [])]).slice(0, 20);
  const sources = asSource
    ? uniq(
        [...(into.sources ?? []), { engine: other.engine, rule_id: other.rule_id }, ...(other.sources ?? [])].map((s) =>
          JSON.stringify({ engine: s.engine, rule_id: s.rule_id }),
        ),
      )
        .map((s) => JSON.parse(s) as { engine: string; rule_id: string })
        .filter((s) => !(s.engine === into.engine && s.rule_id === into.rule_id))
        .slice(0, 20)
    : into.sources;
  const intoConfidence = into.confidence ?? 'medium';
  const otherConfidence = other.confidence ?? 'medium';
  const cvss =
    into.cvss && other.cvss ? (other.cvss.score > into.cvss.score ? other.cvss : into.cvss) : (into.cvss ?? other.cvss);
  const otherEvidence = other.evidence ?? '';
  const evidence =
    asSource && otherEvidence !== ''
      ? cap(`${into.evidence ?? ''}\n\nAlso reported by ${other.engine} (${other.rule_id}): ${otherEvidence}`.trim())
      : (into.evidence ?? '');
  return {
    ...into,
    risk: RISK_ORDER[other.risk] < RISK_ORDER[into.risk] ? other.risk : into.risk,
    confidence: CONFIDENCE_ORDER[otherConfidence] < CONFIDENCE_ORDER[intoConfidence] ? otherConfidence : intoConfidence,
    evidence,
    ...(cve.length > 0 ? { cve } : {}),
    ...(references.length > 0 ? { references } : {}),
    ...(cwe.length > 0 ? { cwe } : {}),
    ...(cvss ? { cvss } : {}),
    ...(sources && sources.length > 0 ? { sources } : {}),
  };
}

export interface MergeResult {
  readonly findings: ScannerFinding[];
  /** How many findings were folded into another (duplicates and cross-engine matches). */
  readonly merged: number;
}

export function mergeFindings(input: readonly OriginFinding[]): MergeResult {
  const candidates: Candidate[] = input.map(({ origin, finding }, index) => ({
    index,
    origin,
    rank: FINDING_ORIGINS.indexOf(origin),
    endpoint: endpointKey(finding.location),
    weaknesses: weaknessesOf(finding),
    cves: cvesOf(finding),
    finding,
  }));
  // Most authoritative origin first; input order within an origin.
  const ordered = [...candidates].sort((a, b) => a.rank - b.rank || a.index - b.index);
  const kept: Candidate[] = [];
  let merged = 0;
  for (const c of ordered) {
    const duplicate = kept.find(
      (k) =>
        k.finding.engine === c.finding.engine &&
        k.finding.rule_id === c.finding.rule_id &&
        k.finding.location === c.finding.location,
    );
    const target =
      duplicate ?? kept.find((k) => k.finding.engine !== c.finding.engine && k.rank < c.rank && sameWeakness(k, c));
    if (target) {
      target.finding = fold(target.finding, c.finding, target !== duplicate);
      merged += 1;
    } else {
      kept.push({ ...c });
    }
  }
  return {
    findings: kept
      .sort((a, b) => RISK_ORDER[a.finding.risk] - RISK_ORDER[b.finding.risk] || a.index - b.index)
      .map((k) => k.finding),
    merged,
  };
}
