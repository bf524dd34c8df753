/**
 * The `scan_result` of a `zap` scan: what was crawled and sent, the rules that ran,
 * and the alerts in the shape of ZAP's JSON report (`site[].alerts[]`: pluginid,
 * alertRef, alert, riskcode, confidence, cweid, wascid, instances with uri, method,
 * param, attack, evidence), so tools that read ZAP reports read ours. Numbers in the
 * alerts are strings, as ZAP writes them. No engine code here: the plug-in definition
 * imports this schema.
 */
import { z } from 'zod';

export const ZapReportInstance = z.object({
  uri: z.string(),
  method: z.string(),
  param: z.string(),
  attack: z.string(),
  evidence: z.string(),
  otherinfo: z.string(),
});
export type ZapReportInstance = z.infer<typeof ZapReportInstance>;

export const ZapReportAlert = z.object({
  pluginid: z.string(),
  alertRef: z.string(),
  alert: z.string(),
  name: z.string(),
  /** '0' informational … '3' high. */
  riskcode: z.enum(['0', '1', '2', '3']),
  /** '1' low … '3' high ('4' confirmed). */
  confidence: z.enum(['0', '1', '2', '3', '4']),
  /** e.g. "Medium (High)". */
  riskdesc: z.string(),
  desc: z.string(),
  solution: z.string(),
  otherinfo: z.string(),
  reference: z.string(),
  cweid: z.string(),
  wascid: z.string(),
  sourceid: z.string(),
  /** Instances found in all (the list below keeps at most a few). */
  count: z.string(),
  instances: z.array(ZapReportInstance),
});
export type ZapReportAlert = z.infer<typeof ZapReportAlert>;

export const WebScanResultSchema = z.object({
  /** 'zap': the native engine; 'zap-daemon': a ZAP daemon driven through its API. */
  engine: z.enum(['zap', 'zap-daemon']),
  mode: z.enum(['baseline', 'full']),
  spider: z.boolean(),
  /** The origin scanned (`scheme://host[:port]`, the target's name). */
  site: z.string(),
  start_url: z.string(),
  pages_crawled: z.number().int().nonnegative(),
  requests_sent: z.number().int().nonnegative(),
  duration_ms: z.number().int().nonnegative(),
  rules_run: z.array(z.object({ pluginid: z.string(), name: z.string(), type: z.enum(['passive', 'active']) })),
  alerts: z.array(ZapReportAlert),
  /** The URLs crawled (first 200). */
  urls: z.array(z.string()),
  /** What pointed off the target's origin: recorded, never requested (first 50 of each). */
  off_origin: z.object({
    links: z.array(z.string()),
    redirects: z.array(z.string()),
    forms: z.array(z.string()),
    scripts: z.array(z.string()),
  }),
  /** Caps that stopped the scan early ('max_pages', 'max_requests', 'time', 'max_depth', …). */
  limits_reached: z.array(z.string()),
  /** Lists or instances were cut to keep the result under its size budget. */
  truncated: z.boolean(),
  /** The ZAP daemon's version (zap-daemon only). */
  zap_version: z.string().optional(),
  /** Why the scheme or port differs from the target's (an ip/hostname target answered only on HTTPS, …). */
  notes: z.array(z.string()),
});
export type WebScanResult = z.infer<typeof WebScanResultSchema>;

/** `scan_result` stays under this many bytes of JSON (the event budget is 512 KiB). */
export const RESULT_BUDGET_BYTES = 480 * 1024;

/**
 * A result within the size budget: fewer instances per alert, fewer URLs, then shorter
 * alert texts, until it fits (`truncated` says it was cut).
 */
export function boundedResult(build: (instancesPerAlert: number) => WebScanResult): WebScanResult {
  const fits = (result: WebScanResult) => Buffer.byteLength(JSON.stringify(result)) <= RESULT_BUDGET_BYTES;
  let result = build(10);
  if (fits(result)) return result;
  for (const instances of [3, 1, 0]) {
    result = { ...build(instances), truncated: true };
    result = { ...result, urls: result.urls.slice(0, instances === 3 ? 50 : 0) };
    if (fits(result)) return result;
  }
  const short = (text: string) => (text.length > 200 ? `${text.slice(0, 199)}…` : text);
  result = {
    ...result,
    alerts: result.alerts.map((a) => ({
      ...a,
      desc: short(a.desc),
      solution: short(a.solution),
      reference: short(a.reference),
      otherinfo: '',
    })),
    off_origin: { links: [], redirects: [], forms: [], scripts: [] },
  };
  if (fits(result)) return result;
  // Last resort: the most severe alerts that fit.
  const alerts = [...result.alerts].sort((a, b) => Number(b.riskcode) - Number(a.riskcode));
  while (alerts.length > 0 && !fits({ ...result, alerts })) alerts.pop();
  return { ...result, alerts };
}
