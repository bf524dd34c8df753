/**
 * Collects the alerts a scan raises and turns them into (1) ZAP's report shape for
 * `scan_result.alerts` (bounded: a few instances per alert, short strings) and
 * (2) normalized findings, one per weakness and place:
 *
 * - `rule_id` = `zap.<alertRef>` (the plugin id, with ZAP's `-n` suffix when the rule
 *   raises several kinds of alert: `zap.10021`, `zap.10020-1`);
 * - `location` by the alert's scope (zapRules.ts): the start URL for site-wide
 *   configuration, `<start URL> (cookie <name>)`, origin + path for pages and files,
 *   origin + path + `?param` for parameters — always built from the target's name and
 *   without query values, so the finding's identity is the same from one run to the next;
 * - ZAP's risk mapped to ours (3 high, 2 medium, 1 low, 0 info), its confidence too.
 */
import type { Confidence, Risk, ScannerFinding } from '../../domain/shared/finding.js';
import type { RaisedAlert } from './alerts.js';
import {
  CONFIDENCE_NAMES,
  RISK_NAMES,
  ZAP_ALERTS,
  type ZapAlertDefinition,
  type ZapConfidence,
  type ZapRisk,
} from './zapRules.js';
import type { ZapReportAlert } from './webResult.js';

export const RISK_OF: Record<ZapRisk, Risk> = { 0: 'info', 1: 'low', 2: 'medium', 3: 'high' };
export const CONFIDENCE_OF: Record<ZapConfidence, Confidence> = { 1: 'low', 2: 'medium', 3: 'high', 4: 'confirmed' };

export interface AlertReportOptions {
  /** The scan's start URL (origin + start path), named by the target's host name. */
  readonly startUrl: string;
  /** 'zap' (native) or 'zap-daemon'. */
  readonly engine: string;
  /** Instances kept per alert in `scan_result` (default 10). */
  readonly maxInstancesPerAlert?: number;
  /** Findings per alert reference (default 50) and in all (default 500). */
  readonly maxFindingsPerAlert?: number;
  readonly maxFindings?: number;
  /** Definitions of alerts raised by another engine (the ZAP daemon), by alert reference. */
  readonly extraDefinitions?: ReadonlyMap<string, ZapAlertDefinition>;
}

interface Group {
  readonly definition: ZapAlertDefinition;
  /** ZAP's name of the most severe variant seen. */
  name: string;
  readonly location: string;
  readonly instances: RaisedAlert[];
  count: number;
  risk: ZapRisk;
  confidence: ZapConfidence;
}

const MAX_STRING = 500;
const clip = (text: string | undefined, max = MAX_STRING) =>
  text === undefined ? '' : text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** Origin + path of a URL (no query, no fragment); the URL itself when it cannot be parsed. */
export function pageLocation(uri: string): string {
  try {
    const url = new URL(uri);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return uri.split(/[?#]/)[0]!;
  }
}

export function locationOf(definition: ZapAlertDefinition, alert: RaisedAlert, startUrl: string): string {
  if (alert.locationParam !== undefined) return `${pageLocation(alert.uri)}?${alert.locationParam}`;
  switch (definition.scope) {
    case 'site':
      return pageLocation(startUrl);
    case 'cookie':
      return `${pageLocation(startUrl)} (cookie ${alert.param ?? ''})`;
    case 'param':
      return alert.param ? `${pageLocation(alert.uri)}?${alert.param}` : pageLocation(alert.uri);
    case 'page':
    case 'file':
      return pageLocation(alert.uri);
  }
}

export function createAlertReport(options: AlertReportOptions) {
  const maxInstances = options.maxInstancesPerAlert ?? 10;
  const groups = new Map<string, Group>();
  const seen = new Set<string>();
  let raised = 0;

  const definitionOf = (alertRef: string) => ZAP_ALERTS.get(alertRef) ?? options.extraDefinitions?.get(alertRef);

  function raise(alert: RaisedAlert): void {
    const definition = definitionOf(alert.alertRef);
    if (!definition) throw new Error(`unknown alert ${alert.alertRef}`);
    const instanceKey = [alert.alertRef, alert.uri, alert.method, alert.param ?? '', alert.locationParam ?? ''].join(
      '\u0000',
    );
    if (seen.has(instanceKey)) return;
    if (seen.size < 200_000) seen.add(instanceKey);
    raised++;
    const location = locationOf(definition, alert, options.startUrl);
    const key = `${alert.alertRef}\u0000${location}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        definition,
        name: alert.name ?? definition.name,
        location,
        instances: [],
        count: 0,
        risk: alert.risk ?? definition.risk,
        confidence: alert.confidence ?? definition.confidence,
      };
      groups.set(key, group);
    }
    group.count++;
    const risk = alert.risk ?? definition.risk;
    if (risk > group.risk) {
      group.risk = risk;
      group.name = alert.name ?? definition.name;
    }
    const confidence = alert.confidence ?? definition.confidence;
    if (confidence > group.confidence) group.confidence = confidence;
    if (group.instances.length < maxInstances) group.instances.push(alert);
  }

  function sortedGroups(): Group[] {
    return [...groups.values()].sort(
      (a, b) =>
        b.risk - a.risk ||
        a.definition.alertRef.localeCompare(b.definition.alertRef, 'en', { numeric: true }) ||
        a.location.localeCompare(b.location),
    );
  }

  /** ZAP's report shape: one entry per alert reference, risk and confidence. */
  function reportAlerts(instancesPerAlert = maxInstances): ZapReportAlert[] {
    const byAlert = new Map<
      string,
      {
        definition: ZapAlertDefinition;
        name: string;
        risk: ZapRisk;
        confidence: ZapConfidence;
        count: number;
        instances: RaisedAlert[];
      }
    >();
    for (const group of sortedGroups()) {
      const key = `${group.definition.alertRef}/${group.risk}/${group.confidence}`;
      let entry = byAlert.get(key);
      if (!entry) {
        entry = {
          definition: group.definition,
          name: group.name,
          risk: group.risk,
          confidence: group.confidence,
          count: 0,
          instances: [],
        };
        byAlert.set(key, entry);
      }
      entry.count += group.count;
      for (const instance of group.instances) {
        if (entry.instances.length < instancesPerAlert) entry.instances.push(instance);
      }
    }
    return [...byAlert.values()].map(({ definition, name, risk, confidence, count, instances }) => ({
      pluginid: definition.pluginId,
      alertRef: definition.alertRef,
      alert: name,
      name,
      riskcode: String(risk) as ZapReportAlert['riskcode'],
      confidence: String(confidence) as ZapReportAlert['confidence'],
      riskdesc: `${RISK_NAMES[risk]} (${CONFIDENCE_NAMES[confidence]})`,
      desc: definition.description,
      solution: definition.solution,
      otherinfo: clip(instances[0]?.otherinfo, 1000),
      reference: definition.references.join('\n'),
      cweid: String(definition.cwe),
      wascid: String(definition.wasc),
      sourceid: definition.kind === 'passive' ? '3' : '1',
      count: String(count),
      instances: instances.map((instance) => ({
        uri: clip(instance.uri),
        method: instance.method,
        param: clip(instance.param, 200),
        attack: clip(instance.attack, 300),
        evidence: clip(instance.evidence, 300),
        otherinfo: clip(instance.otherinfo, 500),
      })),
    }));
  }

  function evidenceOf(group: Group): string {
    const lines: string[] = [];
    const first = group.instances[0];
    if (first?.proof) {
      lines.push(`Request:\n${clip(first.proof.request, 1500)}`, `Response:\n${clip(first.proof.response, 1500)}`);
    } else if (first?.evidence) {
      lines.push(`Evidence: ${clip(first.evidence, 500)}`);
    }
    if (first?.attack && !first.proof) lines.push(`Attack: ${clip(first.attack, 300)}`);
    const urls = [...new Set(group.instances.map((i) => i.uri))];
    if (group.definition.scope === 'site' || group.definition.scope === 'cookie' || urls.length > 1) {
      const more = group.count > group.instances.length ? ` (and ${group.count - group.instances.length} more)` : '';
      lines.push(`Seen on: ${urls.slice(0, 10).join(', ')}${more}`);
    }
    return clip(lines.join('\n'), 5000);
  }

  function findings(): ScannerFinding[] {
    const out: ScannerFinding[] = [];
    const perAlert = new Map<string, number>();
    const maxPerAlert = options.maxFindingsPerAlert ?? 50;
    const maxFindings = options.maxFindings ?? 500;
    for (const group of sortedGroups()) {
      const { definition } = group;
      const used = perAlert.get(definition.alertRef) ?? 0;
      if (used >= maxPerAlert || out.length >= maxFindings) continue;
      perAlert.set(definition.alertRef, used + 1);
      const otherinfo = group.instances.find((i) => i.otherinfo)?.otherinfo;
      out.push({
        name: clip(group.name, 300),
        risk: RISK_OF[group.risk],
        description: clip(otherinfo ? `${definition.description}\n\n${otherinfo}` : definition.description, 5000),
        solution: clip(definition.solution, 5000),
        evidence: evidenceOf(group),
        location: clip(group.location, 2000),
        rule_id: `zap.${definition.alertRef}`.slice(0, 200),
        engine: options.engine,
        confidence: CONFIDENCE_OF[group.confidence],
        ...(definition.cwe > 0 ? { cwe: [definition.cwe] } : {}),
        references: definition.references.slice(0, 50).map((r) => r.slice(0, 500)),
      });
    }
    return out;
  }

  return {
    raise,
    findings,
    reportAlerts,
    /** Alert references raised at least once. */
    raisedRefs: () => new Set([...groups.values()].map((g) => g.definition.alertRef)),
    /** Instances raised in all (after removing exact repeats). */
    raisedCount: () => raised,
    groupCount: () => groups.size,
  };
}

export type AlertReport = ReturnType<typeof createAlertReport>;
