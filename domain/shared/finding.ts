import { z } from 'zod';
import { sha256Hex } from './sha256.js';

/** Risk of one finding, most severe first. */
export const RISKS = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const Risk = z.enum(RISKS);
export type Risk = z.infer<typeof Risk>;

/** How sure the engine is (ZAP's scale without "false positive"). */
export const CONFIDENCES = ['confirmed', 'high', 'medium', 'low'] as const;
export const Confidence = z.enum(CONFIDENCES);
export type Confidence = z.infer<typeof Confidence>;

/** CVSS of a finding, as the engine reported it. */
export const Cvss = z.object({
  score: z.number().min(0).max(10),
  /** e.g. "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" */
  vector: z.string().max(200).optional(),
});
export type Cvss = z.infer<typeof Cvss>;

/** Another engine that reported the same weakness (a finding deduplicated across engines). */
export const FindingSource = z.object({
  engine: z.string().min(1).max(50),
  rule_id: z.string().min(1).max(200),
});
export type FindingSource = z.infer<typeof FindingSource>;

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

/**
 * What a scanner reports for one weakness, before it has an identity.
 *
 * - `rule_id`: the engine's stable id of the check ("nmap.telnet", ZAP's "10021",
 *   a nuclei template id). With the target, the scanner and the location it makes the
 *   finding's identity, so it must not change between runs of the same check.
 * - `location`: where, relative to the target and never containing an address DNS
 *   gave us ("443/tcp", "https://example.com/login?q", "example.com:443"); for a
 *   range target, the host inside the range is part of the location.
 * - `engine`: which engine produced it ("nmap", "nmap-nse", "secably-tls", "zap", …).
 */
export const ScannerFinding = z.object({
  name: z.string().min(1).max(300),
  risk: Risk,
  description: z.string().max(5000),
  solution: z.string().max(5000),
  evidence: z.string().max(5000).default(''),
  location: z.string().max(2000),
  rule_id: z.string().min(1).max(200),
  engine: z.string().min(1).max(50),
  confidence: Confidence.default('medium'),
  /** CWE ids, e.g. [79]. */
  cwe: z.array(z.number().int().positive()).max(20).optional(),
  /** CVE ids, e.g. ["CVE-2021-41773"]. */
  cve: z.array(z.string().regex(CVE_ID, 'a CVE id like CVE-2021-41773')).max(100).optional(),
  cvss: Cvss.optional(),
  /** References (URLs, advisories). */
  references: z.array(z.string().max(500)).max(50).optional(),
  /** Other engines that found the same weakness. */
  sources: z.array(FindingSource).max(20).optional(),
});
export type ScannerFinding = z.input<typeof ScannerFinding>;
export type NormalizedScannerFinding = z.output<typeof ScannerFinding>;

/**
 * The one normalized finding shape every scanner produces, with its identity:
 * `fingerprint` is the same for the same weakness at the same place of the same
 * target, across scans, reports and SARIF uploads (see `findingFingerprint`).
 */
export const Finding = ScannerFinding.extend({
  fingerprint: z.string().min(1).max(128),
});
export type Finding = z.output<typeof Finding>;

/**
 * A finding's identity: target id + scanner + rule id + location. Never the
 * resolved address (a hostname whose address changes keeps its findings). 32 hex
 * characters of SHA-256 over the parts joined by a separator none of them can hold.
 */
export function findingFingerprint(parts: {
  readonly targetId: string;
  readonly scannerType: string;
  readonly ruleId: string;
  readonly location: string;
}): string {
  return sha256Hex([parts.targetId, parts.scannerType, parts.ruleId, parts.location].join('\u0000')).slice(0, 32);
}

/** A scanner's finding with its identity on this target. */
export function identify(
  finding: ScannerFinding,
  context: { readonly targetId: string; readonly scannerType: string },
): Finding {
  const normalized = ScannerFinding.parse(finding);
  return {
    ...normalized,
    fingerprint: findingFingerprint({ ...context, ruleId: normalized.rule_id, location: normalized.location }),
  };
}
