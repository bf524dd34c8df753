/**
 * Pure: a gvmd report (`<get_reports_response>` with `details="1"`) to our findings and
 * service inventory, the same way the composed scan maps its engines.
 *
 * - One finding per `<result>`: `rule_id` "gvm.<NVT OID>", `engine` "openvas-gvm",
 *   location "host:port/proto" (host = the target's name, never the scanned address;
 *   "general/tcp" and the like stay as gvmd writes them: "host:general/tcp").
 * - Risk from the result's severity (CVSS bands: ≥9 critical, ≥7 high, ≥4 medium,
 *   >0 low, else info: gvmd's "Log" results are informational); confidence from the
 *   quality of detection (QoD ≥ 97 confirmed, ≥ 80 high, ≥ 70 medium, else low).
 * - Description from the NVT's tags (summary, impact, insight, affected, vuldetect),
 *   solution from the NVT's solution (or its solution tag), evidence from the result's
 *   own description (what the check saw), CVSS from the severities (score and vector),
 *   CVE ids and references from the NVT's refs.
 * - Results marked "False Positive" (by an override) or "Error"/"Debug" are not findings;
 *   errors are returned for the summary.
 */
import type { Confidence, Cvss, ScannerFinding } from '../../../domain/shared/finding.js';
import { child, childrenNamed, type XmlElement } from '../../shared/xml.js';
import { GVM_ENGINE } from '../engines.js';
import { bracketed } from '../locations.js';
import { riskOfCvss } from '../nseFindings.js';

const MAX_TEXT = 5_000;
const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

export interface GvmReportService {
  readonly port: number;
  readonly protocol: string;
}

export interface GvmReportMapping {
  readonly findings: ScannerFinding[];
  /** Ports gvmd reported on (it names no service or product per port). */
  readonly services: GvmReportService[];
  /** CPEs gvmd's detection NVTs recorded for the host (host details "App" / "best_os_cpe"). */
  readonly hostCpes: string[];
  readonly resultCount: number;
  readonly errors: string[];
  readonly scanRunStatus: string | null;
}

const truncate = (text: string, max = MAX_TEXT) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function text(element: XmlElement | undefined): string {
  return element?.text.trim() ?? '';
}

/** gvmd's NVT tags: "summary=...|insight=...|cvss_base_vector=...". */
export function parseNvtTags(tags: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of tags.split('|')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key && value && value !== 'N/A') out[key] = value;
  }
  return out;
}

function confidenceOfQod(qod: number | null): Confidence {
  if (qod === null) return 'medium';
  if (qod >= 97) return 'confirmed';
  if (qod >= 80) return 'high';
  if (qod >= 70) return 'medium';
  return 'low';
}

/** The inner `<report>` of a get_reports response (gvmd nests report in report). */
export function innerReport(root: XmlElement): XmlElement | undefined {
  const outer = child(root, 'report');
  if (!outer) return undefined;
  return child(outer, 'report') ?? outer;
}

function cvssOf(nvt: XmlElement | undefined, severity: number | null, tags: Record<string, string>): Cvss | undefined {
  const severities = nvt ? child(nvt, 'severities') : undefined;
  for (const entry of severities ? childrenNamed(severities, 'severity') : []) {
    const score = Number(text(child(entry, 'score')));
    const vector = text(child(entry, 'value'));
    if (Number.isFinite(score) && score >= 0 && score <= 10) {
      return vector ? { score, vector: vector.slice(0, 200) } : { score };
    }
  }
  if (severity !== null && severity > 0 && severity <= 10) {
    const vector = tags.cvss_base_vector;
    return vector ? { score: severity, vector: vector.slice(0, 200) } : { score: severity };
  }
  return undefined;
}

function locationOf(hostLabel: string, port: string): string {
  return port === '' ? hostLabel : `${bracketed(hostLabel)}:${port}`;
}

export function gvmReportFindings(root: XmlElement, hostLabel: string): GvmReportMapping {
  const report = innerReport(root);
  const findings: ScannerFinding[] = [];
  const errors: string[] = [];
  const services = new Map<string, GvmReportService>();
  const hostCpes = new Set<string>();
  if (!report) return { findings, services: [], hostCpes: [], resultCount: 0, errors, scanRunStatus: null };

  const results = child(report, 'results');
  const resultElements = results ? childrenNamed(results, 'result') : [];
  for (const result of resultElements) {
    const threat = text(child(result, 'threat'));
    const nvt = child(result, 'nvt');
    const name = text(child(nvt ?? result, 'name')) || text(child(result, 'name')) || 'OpenVAS result';
    const port = text(child(result, 'port'));
    if (/^(False Positive|Debug)$/i.test(threat)) continue;
    if (/^Error$/i.test(threat)) {
      errors.push(truncate(`${name} (${port}): ${text(child(result, 'description'))}`, 500));
      continue;
    }
    const oid = nvt?.attributes.oid ?? '';
    const severityText = text(child(result, 'severity'));
    const severity = severityText === '' ? null : Number(severityText);
    const tags = parseNvtTags(text(nvt ? child(nvt, 'tags') : undefined));
    const qodValue = Number(text(child(child(result, 'qod') ?? result, 'value')));
    const refs = nvt ? child(nvt, 'refs') : undefined;
    const refElements = refs ? childrenNamed(refs, 'ref') : [];
    const cve = [
      ...new Set(
        [
          ...refElements
            .filter((r) => (r.attributes.type ?? '').toLowerCase() === 'cve')
            .map((r) => r.attributes.id ?? ''),
          // GMP before 9 listed them in <cve>CVE-a, CVE-b</cve>.
          ...text(nvt ? child(nvt, 'cve') : undefined).split(/[\s,]+/),
        ]
          .map((id) => id.trim().toUpperCase())
          .filter((id) => CVE_ID.test(id)),
      ),
    ].slice(0, 100);
    const references = [
      ...new Set(
        refElements
          .filter((r) => (r.attributes.type ?? '').toLowerCase() !== 'cve')
          .map((r) => {
            const type = (r.attributes.type ?? '').toLowerCase();
            const id = r.attributes.id ?? '';
            return type === 'url' ? id : `${type.toUpperCase()}: ${id}`;
          })
          .filter((r) => r.length > 2 && r.length <= 500),
      ),
    ].slice(0, 50);
    const cvss = cvssOf(nvt, Number.isFinite(severity) ? severity : null, tags);
    const risk = riskOfCvss(cvss?.score ?? (Number.isFinite(severity) && severity !== null ? severity : 0));
    const described = [
      tags.summary,
      tags.impact ? `Impact: ${tags.impact}` : undefined,
      tags.insight ? `Insight: ${tags.insight}` : undefined,
      tags.affected ? `Affected: ${tags.affected}` : undefined,
      tags.vuldetect ? `Detection: ${tags.vuldetect}` : undefined,
    ].filter((part): part is string => part !== undefined && part !== '');
    const solution =
      text(nvt ? child(nvt, 'solution') : undefined) ||
      tags.solution ||
      (risk === 'info'
        ? 'Informational: no action needed unless this service should not be reachable.'
        : 'See the references for the vendor fix, apply it and scan again.');
    findings.push({
      name: truncate(name, 300),
      risk,
      description: truncate(described.length > 0 ? described.join('\n\n') : `OpenVAS check "${name}" reported this.`),
      solution: truncate(solution),
      evidence: truncate(text(child(result, 'description'))),
      location: locationOf(hostLabel, port),
      rule_id: oid ? `gvm.${oid}`.slice(0, 200) : `gvm.${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`.slice(0, 200),
      engine: GVM_ENGINE,
      confidence: confidenceOfQod(Number.isFinite(qodValue) ? qodValue : null),
      ...(cve.length > 0 ? { cve } : {}),
      ...(cvss ? { cvss } : {}),
      ...(references.length > 0 ? { references } : {}),
    });
    const numeric = /^(\d{1,5})\/(\w+)$/.exec(port);
    if (numeric) services.set(port, { port: Number(numeric[1]), protocol: numeric[2] ?? 'tcp' });
  }

  const ports = child(report, 'ports');
  for (const p of ports ? childrenNamed(ports, 'port') : []) {
    // <port>443/tcp<host>…</host><severity>…</severity></port>: the port is the element's own text.
    const numeric = /^(\d{1,5})\/(\w+)/.exec(p.text.trim());
    if (numeric)
      services.set(`${numeric[1]}/${numeric[2]}`, { port: Number(numeric[1]), protocol: numeric[2] ?? 'tcp' });
  }
  for (const host of childrenNamed(report, 'host')) {
    for (const detail of childrenNamed(host, 'detail')) {
      const detailName = text(child(detail, 'name'));
      const value = text(child(detail, 'value'));
      if (/^(App|best_os_cpe|OS)$/i.test(detailName) && value.startsWith('cpe:')) hostCpes.add(value);
    }
  }
  return {
    findings,
    services: [...services.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol)),
    hostCpes: [...hostCpes].slice(0, 200),
    resultCount: resultElements.length,
    errors: errors.slice(0, 50),
    scanRunStatus: text(child(report, 'scan_run_status')) || null,
  };
}
