/**
 * The `scan_result` of an `openvas` scan (documented in docs/scanners/openvas.md).
 * API-safe: zod only, no engine.
 */
import { z } from 'zod';

export const ServiceScriptOutput = z.object({ id: z.string(), output: z.string() });

export const InventoryService = z.object({
  /** The target's name as the user gave it (never the address DNS gave). */
  host: z.string(),
  port: z.number().int().min(0).max(65535),
  protocol: z.string(),
  service: z.string(),
  product: z.string().optional(),
  version: z.string().optional(),
  extrainfo: z.string().optional(),
  cpe: z.array(z.string()),
  /** 'ssl' when the service was found inside TLS. */
  tunnel: z.string().optional(),
  /** Whether the service speaks TLS from the first byte (null: not known). */
  tls: z.boolean().nullable(),
  /** Whether the web and template engines looked at it. */
  http: z.boolean(),
  banner: z.string().optional(),
  /** Informational NSE output on this port (findings are in the findings). */
  scripts: z.array(ServiceScriptOutput).optional(),
});
export type InventoryService = z.infer<typeof InventoryService>;

export const PHASE_STATUSES = ['completed', 'partial', 'timed_out', 'failed', 'skipped'] as const;
export const PhaseStatus = z.enum(PHASE_STATUSES);
export type PhaseStatus = z.infer<typeof PhaseStatus>;

export const PhaseTiming = z.object({
  /** discovery | services | tls | web | templates (GVM: setup | scan | report). */
  name: z.string(),
  status: PhaseStatus,
  /** Milliseconds from the start of the scan. */
  started_ms: z.number().int().min(0),
  duration_ms: z.number().int().min(0),
  /** The time the phase was given. */
  budget_ms: z.number().int().min(0),
  detail: z.string().optional(),
});
export type PhaseTiming = z.infer<typeof PhaseTiming>;

export const EndpointRun = z.object({
  /** "example.com:443" or the origin "https://example.com:8443". */
  endpoint: z.string(),
  port: z.number().int(),
  status: PhaseStatus,
  duration_ms: z.number().int().min(0),
  findings: z.number().int().min(0),
  error: z.string().optional(),
  /** The engine's own result for this endpoint (dropped when too large). */
  result: z.record(z.string(), z.unknown()).optional(),
});
export type EndpointRun = z.infer<typeof EndpointRun>;

export const EngineSummary = z.object({
  /** nmap | nmap-nse | tls | web | templates | openvas-gvm */
  name: z.string(),
  phase: z.string(),
  status: PhaseStatus,
  /** Findings it reported, before the cross-engine merge. */
  findings: z.number().int().min(0),
  /** The `engine` names on its findings. */
  finding_engines: z.array(z.string()),
  duration_ms: z.number().int().min(0),
  endpoints: z.array(EndpointRun).optional(),
  /** Engine-specific figures (nmap version, NSE scripts run, skipped endpoints, ...). */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type EngineSummary = z.infer<typeof EngineSummary>;

export const VulnScanResultSchema = z.object({
  /** composed (nmap + NSE + our engines) or openvas-gvm (a Greenbone gvmd). */
  engine: z.enum(['composed', 'openvas-gvm']),
  profile: z.enum(['discovery', 'full_and_fast', 'deep']),
  port_list: z.enum(['all_tcp', 'top_1000_tcp']),
  /** What was scanned: "1-65535", "top 1000" (or the GVM port list's name). */
  ports_scanned: z.string(),
  host: z.object({
    hostname: z.string(),
    reachable: z.boolean(),
    /** Why it counts as reachable or not (ports that answered). */
    reason: z.string(),
    latency: z.number().nullable(),
    open_port_count: z.number().int().min(0),
    port_counts: z.record(z.string(), z.number().int()),
  }),
  services: z.array(InventoryService),
  engines: z.array(EngineSummary),
  phases: z.array(PhaseTiming),
  findings_summary: z.object({
    total: z.number().int().min(0),
    by_risk: z.record(z.string(), z.number().int()),
    by_engine: z.record(z.string(), z.number().int()),
    /** Findings folded into another one (same weakness from several engines, duplicates). */
    merged: z.number().int().min(0),
    /** Findings left out beyond the cap (least severe first). */
    dropped: z.number().int().min(0),
  }),
  duration_ms: z.number().int().min(0),
  /** GVM runs: the task, report and scan config used. */
  gvm: z.record(z.string(), z.unknown()).optional(),
  /** Parts were cut to keep the result under its size budget. */
  truncated: z.boolean(),
});
export type VulnScanResult = z.infer<typeof VulnScanResultSchema>;
