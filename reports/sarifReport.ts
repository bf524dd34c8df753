/**
 * The SARIF 2.1.0 export (OASIS Static Analysis Results Interchange Format), for
 * DefectDojo, SARIF viewers and SIEMs (GitHub code scanning accepts only repository
 * paths as locations: docs/reports.md). One run; one result per finding, for every
 * scanner alike:
 *
 * - `ruleId` is the finding's `rule_id`; the run's rules (tool.driver.rules) carry the
 *   name, description and help (the solution) of the first finding of each rule, its
 *   CWE tags, and `security-severity` (the highest CVSS score, else one for the risk).
 * - `level` from our risk: critical and high → error, medium → warning, low and
 *   info → note.
 * - locations: a finding located by URL (web scanners) is at that URL; one located
 *   by port ("host:port/tcp", "443/tcp") or by "host:port" (TLS) is at
 *   `tcp://host:port` (`udp://…` for UDP; the host is the target's when the location
 *   names none); anything else is at the target, with the location as a logical
 *   location. Every result names the target as its `analysisTarget`, the run's one
 *   artifact (role analysisTarget).
 * - `partialFingerprints["secablyFindingId/v1"]` is our fingerprint (target + scanner
 *   + rule + location), so a re-upload of a later scan matches the same alerts.
 * - `run.properties.secablyReport` states the events the report was built from
 *   (stream, last revision, digest).
 *
 * Written as a stream: the results come first and the tool (whose rules are
 * collected while the results go by) last; JSON member order carries no meaning.
 */
import type { Finding, Risk } from '../domain/shared/finding.js';
import { RISKS } from '../domain/shared/finding.js';
import { DIGEST_ALGORITHM, DIGEST_CANONICALIZATION } from './reportDigest.js';
import { chunked, GENERATOR, REPORT_VERSION, type ReportInput } from './reportInput.js';

export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';
export const FINGERPRINT_KEY = 'secablyFindingId/v1';

type SarifLevel = 'error' | 'warning' | 'note';

export const SARIF_LEVELS: Readonly<Record<Risk, SarifLevel>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub's scale: over 9 critical, 7–8.9 high, 4–6.9 medium, 0.1–3.9 low. */
const RISK_SEVERITY: Readonly<Record<Risk, number>> = { critical: 9.5, high: 8, medium: 5.5, low: 3, info: 0 };

/** Text kept for rules in all; past it, new rules keep their name only (every result keeps its full text). */
const RULE_TEXT_BUDGET = 4 * 1024 * 1024;

/** A host as it goes into a URI authority (IPv6 bracketed). */
function uriHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The host of the target: its URL's host, else its value (a range keeps its CIDR). */
function targetHost(target: ReportInput['model']['target']): string {
  if (target.type === 'url') {
    try {
      return new URL(target.value).hostname;
    } catch {
      return target.value;
    }
  }
  return target.value;
}

/** A valid URI reference for any text (characters a URI cannot hold percent-encoded). */
function safeUri(text: string): string {
  try {
    return new URL(text).href;
  } catch {
    return encodeURI(text);
  }
}

/** The target as a URI: a URL target is its URL, a host `tcp://host`, a range `tcp://first-address/prefix`. */
export function targetUri(target: ReportInput['model']['target']): string {
  if (target.type === 'url') return safeUri(target.value);
  if (target.type === 'range') {
    const [address = '', prefix = ''] = target.value.split('/');
    return safeUri(`tcp://${uriHost(address)}/${prefix}`);
  }
  return safeUri(`tcp://${uriHost(target.value)}`);
}

const PORT_LOCATION = /^(?:(\[[0-9a-f:.]+\]|[^\s:/[\]]+):)?(\d{1,5})(?:\/(tcp|udp|sctp))?$/i;

/** Where a finding is, as a SARIF URI (see the module comment), or null: at the target itself. */
export function locationUri(location: string, target: ReportInput['model']['target']): string | null {
  const trimmed = location.trim();
  if (/^https?:\/\//i.test(trimmed)) return safeUri(trimmed);
  const port = PORT_LOCATION.exec(trimmed);
  if (port && (port[1] !== undefined || port[3] !== undefined)) {
    const host = port[1] ?? uriHost(targetHost(target));
    return safeUri(`${(port[3] ?? 'tcp').toLowerCase()}://${host}:${port[2]}`);
  }
  return null;
}

interface RuleEntry {
  readonly index: number;
  readonly descriptor: Record<string, unknown>;
  worst: Risk;
  severity: number;
}

function ruleDescriptor(finding: Finding, withText: boolean): Record<string, unknown> {
  const helpUri = finding.references?.find((r) => /^https?:\/\/\S+$/.test(r));
  const tags = ['security', ...(finding.cwe ?? []).map((id) => `external/cwe/cwe-${id}`), `engine/${finding.engine}`];
  return {
    id: finding.rule_id,
    shortDescription: { text: finding.name },
    ...(withText
      ? {
          fullDescription: { text: finding.description || finding.name },
          help: { text: finding.solution || 'No remediation advice was given for this check.' },
        }
      : { help: { text: finding.solution.slice(0, 500) || finding.name } }),
    ...(helpUri ? { helpUri: safeUri(helpUri) } : {}),
    properties: { tags },
  };
}

function result(finding: Finding, rule: RuleEntry, input: ReportInput, target: string): Record<string, unknown> {
  const uri = locationUri(finding.location, input.model.target);
  const logical = uri === null && finding.location ? [{ fullyQualifiedName: finding.location, kind: 'resource' }] : [];
  return {
    ruleId: finding.rule_id,
    ruleIndex: rule.index,
    kind: 'fail',
    level: SARIF_LEVELS[finding.risk],
    message: { text: finding.description ? `${finding.name}\n\n${finding.description}` : finding.name },
    analysisTarget: { uri: target, index: 0 },
    locations: [
      {
        physicalLocation: { artifactLocation: uri === null ? { uri: target, index: 0 } : { uri } },
        ...(logical.length ? { logicalLocations: logical } : {}),
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: finding.fingerprint },
    properties: {
      risk: finding.risk,
      confidence: finding.confidence,
      engine: finding.engine,
      location: finding.location,
      evidence: finding.evidence,
      solution: finding.solution,
      ...(finding.cwe ? { cwe: finding.cwe } : {}),
      ...(finding.cve ? { cve: finding.cve } : {}),
      ...(finding.cvss ? { cvss: finding.cvss } : {}),
      ...(finding.references ? { references: finding.references } : {}),
      ...(finding.sources ? { sources: finding.sources } : {}),
    },
  };
}

function runHead(input: ReportInput, target: string): Record<string, unknown> {
  const { model, source } = input;
  const invocation: Record<string, unknown> = { executionSuccessful: model.status === 'completed' };
  if (model.startedAt) invocation.startTimeUtc = model.startedAt;
  if (model.endedAt) invocation.endTimeUtc = model.endedAt;
  return {
    automationDetails: {
      id: `secably/${model.scanner.type}/${model.target.id}/${model.scanId}`,
      ...(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(model.scanId)
        ? { guid: model.scanId }
        : {}),
      description: { text: `${model.scanner.type} ${model.scanner.profile} scan of ${model.target.value}` },
    },
    artifacts: [
      {
        location: { uri: target },
        roles: ['analysisTarget'],
        description: { text: `${model.target.name} (${model.target.type} ${model.target.value})` },
      },
    ],
    invocations: [invocation],
    properties: {
      secablyReport: {
        report_version: REPORT_VERSION,
        generated_at: input.generatedAt,
        stream: source.stream,
        first_revision: 0,
        last_revision: source.lastRevision,
        event_count: source.eventCount,
        digest: source.digest,
        digest_algorithm: DIGEST_ALGORITHM,
        canonicalization: DIGEST_CANONICALIZATION,
        scan_id: model.scanId,
        scanner_type: model.scanner.type,
        scan_profile: model.scanner.profile,
        target_id: model.target.id,
        target: model.target.value,
        risk_level: model.outcome?.riskLevel ?? null,
        security_score: model.outcome?.securityScore ?? null,
        findings_count: model.findingsCount,
      },
    },
  };
}

async function* parts(input: ReportInput): AsyncGenerator<string> {
  const target = targetUri(input.model.target);
  const head = JSON.stringify(runHead(input, target)).slice(1, -1);
  yield `{"$schema":${JSON.stringify(SARIF_SCHEMA_URI)},"version":"2.1.0","runs":[{${head},"results":[`;
  const rules = new Map<string, RuleEntry>();
  let ruleText = 0;
  let first = true;
  for await (const finding of input.findings()) {
    let rule = rules.get(finding.rule_id);
    if (!rule) {
      const withText = ruleText < RULE_TEXT_BUDGET;
      const descriptor = ruleDescriptor(finding, withText);
      if (withText) ruleText += finding.description.length + finding.solution.length + finding.name.length;
      rule = { index: rules.size, descriptor, worst: finding.risk, severity: 0 };
      rules.set(finding.rule_id, rule);
    }
    if (RISKS.indexOf(finding.risk) < RISKS.indexOf(rule.worst)) rule.worst = finding.risk;
    rule.severity = Math.max(rule.severity, finding.cvss?.score ?? RISK_SEVERITY[finding.risk]);
    yield `${first ? '\n' : ',\n'}${JSON.stringify(result(finding, rule, input, target))}`;
    first = false;
  }
  const driverRules = [...rules.values()].map((rule) => ({
    ...rule.descriptor,
    defaultConfiguration: { level: SARIF_LEVELS[rule.worst] },
    properties: {
      ...(rule.descriptor.properties as Record<string, unknown>),
      'security-severity': rule.severity.toFixed(1),
      risk: rule.worst,
    },
  }));
  const tool = {
    driver: {
      name: GENERATOR,
      fullName: `${GENERATOR} (${input.model.scanner.type} scanner)`,
      rules: driverRules,
    },
  };
  yield `\n],"tool":${JSON.stringify(tool)}}]}\n`;
}

export function sarifReport(input: ReportInput): AsyncIterable<string> {
  return chunked(parts(input));
}
