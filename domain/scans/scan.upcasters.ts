/**
 * Upcasters of scan events.
 *
 * FindingsReported, version 1 → 2. Version 1 (written before scanner plug-ins,
 * when nmap was the only scanner that ran) carried every finding and the
 * scan_result in one event, each finding without rule id or engine, and with a
 * fingerprint over the name and a location that held the scanned address.
 * Version 2 is one batch of findings with their identity in the domain (target +
 * scanner + rule + location): the old event becomes batch 0, its findings get the
 * nmap rule ids the nmap plug-in uses today and their identity recomputed, and the
 * scan_result stays on the event (the scans projection reads it from there).
 */
import { findingFingerprint } from '../shared/finding.js';
import type { Upcaster } from '../shared/upcasting.js';

/** The nmap plug-in's rule id of a finding name ("Telnet service exposed" → "nmap.telnet-service-exposed"). */
function nmapRuleIdOf(name: string): string {
  if (name.startsWith('Open port ')) return 'nmap.open-port';
  if (name === 'Host scan timed out') return 'nmap.host-timed-out';
  return `nmap.${name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')}`;
}

function cweOf(references: unknown): number[] {
  if (!Array.isArray(references)) return [];
  return references.flatMap((r) => {
    const match = typeof r === 'string' ? /^CWE-(\d+)/.exec(r) : null;
    return match ? [Number(match[1])] : [];
  });
}

export const findingsReportedV1: Upcaster = {
  type: 'FindingsReported',
  from: 1,
  upcast(data) {
    const targetId = String(data.targetId);
    const findings = Array.isArray(data.findings) ? (data.findings as Record<string, unknown>[]) : [];
    return {
      ...data,
      batch: 0,
      findings: findings.map((old) => {
        const ruleId = nmapRuleIdOf(String(old.name));
        const location = String(old.location);
        const cwe = cweOf(old.references);
        const { fingerprint: _old, ...rest } = old;
        return {
          ...rest,
          rule_id: ruleId,
          engine: 'nmap',
          confidence: ruleId === 'nmap.open-port' || ruleId === 'nmap.host-timed-out' ? 'confirmed' : 'medium',
          ...(cwe.length ? { cwe } : {}),
          fingerprint: findingFingerprint({ targetId, scannerType: 'nmap', ruleId, location }),
        };
      }),
    };
  },
};

export const scanUpcasters: readonly Upcaster[] = [findingsReportedV1];
