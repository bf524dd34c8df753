/**
 * `scan_result` of a nuclei scan: nuclei's JSONL result events (one object per
 * line of `nuclei -jsonl`, here as an array) plus the counts of the run. Only zod:
 * the plug-in definition imports it without loading the engine.
 */
import { z } from 'zod';

export const NucleiResultInfo = z.object({
  name: z.string(),
  author: z.array(z.string()),
  tags: z.array(z.string()),
  severity: z.string(),
  description: z.string().optional(),
  remediation: z.string().optional(),
  reference: z.array(z.string()).optional(),
  classification: z
    .object({
      'cve-id': z.array(z.string()).optional(),
      'cwe-id': z.array(z.string()).optional(),
      'cvss-metrics': z.string().optional(),
      'cvss-score': z.number().optional(),
      cpe: z.string().optional(),
    })
    .optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/** One result, in nuclei's JSONL shape (the fields we produce). */
export const NucleiResultEvent = z.object({
  'template-id': z.string(),
  /** `secably/<id>.yaml` for our templates, `user/<template uuid>` for a user's. */
  'template-path': z.string(),
  info: NucleiResultInfo,
  type: z.literal('http'),
  /** The target's origin, by its name (never the address it resolved to). */
  host: z.string(),
  'matched-at': z.string(),
  'extracted-results': z.array(z.string()).optional(),
  'matcher-name': z.string().optional(),
  'matcher-status': z.literal(true),
  'curl-command': z.string(),
  timestamp: z.string(),
});
export type NucleiResultEvent = z.infer<typeof NucleiResultEvent>;

export const NucleiScanStats = z.object({
  templates_run: z.number().int().min(0),
  templates_matched: z.number().int().min(0),
  /** Templates that could not run (a user template the engine refused). */
  templates_failed: z.number().int().min(0),
  /** Requests that went out on the wire. */
  requests_sent: z.number().int().min(0),
  /** Requests not sent because another template had already sent the very same request. */
  requests_saved_by_cache: z.number().int().min(0),
  request_errors: z.number().int().min(0),
  bytes_received: z.number().int().min(0),
  duration_ms: z.number().min(0),
  /** Redirects to other origins that were not followed (and requests refused for leaving the target). */
  off_target_refused: z.array(z.string()),
  /** Why the run stopped before every request was sent (request, byte or time budget). */
  stopped_early: z.string().optional(),
});
export type NucleiScanStats = z.infer<typeof NucleiScanStats>;

export const NucleiScanResultSchema = z.object({
  engine: z.literal('secably-nuclei'),
  mode: z.enum(['quick', 'full']),
  /** {{BaseURL}} of the run. */
  target: z.string(),
  results: z.array(NucleiResultEvent),
  stats: NucleiScanStats,
  templates: z.object({
    bundled: z.number().int().min(0),
    user: z.array(z.object({ id: z.string(), 'template-id': z.string(), sha256: z.string() })),
  }),
  errors: z.array(z.object({ 'template-id': z.string(), error: z.string() })),
  /** Set when results were cut to keep scan_result under its size budget (findings are complete). */
  truncated: z.boolean().optional(),
});
export type NucleiScanResult = z.infer<typeof NucleiScanResultSchema>;

/** scan_result stays under this many bytes of JSON. */
export const MAX_RESULT_BYTES = 400 * 1024;
