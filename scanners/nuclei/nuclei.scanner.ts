/**
 * The nuclei scanner's runner (loaded by workers only): picks the origin, loads the
 * user's template snapshots carried by the job, runs our templates of the mode and
 * theirs through the engine, and returns findings and `scan_result`.
 *
 * - URL target: its scheme, port and path ({{BaseURL}} = the URL without query).
 * - IP or host name: `http://<name>`, or `https://<name>` when port 80 redirects
 *   there or does not answer (see `chooseOrigin`).
 * - A user template that no longer loads (the engine changed since it was uploaded)
 *   is reported in `errors` and `stats.templates_failed`; the others still run.
 */
import type { ScannerRunner } from '../shared/scanner.js';
import { templatesForMode } from './bundledTemplates.js';
import { TemplateSnapshot, type NucleiScanConfig } from './nuclei.plugin.js';
import type { LoadedTemplate } from './nucleiFindings.js';
import { chooseOrigin, DEFAULT_MAX_REQUESTS, runTemplates } from './nucleiScan.js';
import { parseTemplate } from './templateParser.js';

/** Time kept back from the job's timeout to report what was found. */
const REPORT_MARGIN_MS = 60_000;

export function loadUserTemplates(snapshots: readonly unknown[]): {
  templates: LoadedTemplate[];
  failed: { templateId: string; error: string }[];
  ran: { id: string; templateId: string; sha256: string }[];
} {
  const templates: LoadedTemplate[] = [];
  const failed: { templateId: string; error: string }[] = [];
  const ran: { id: string; templateId: string; sha256: string }[] = [];
  for (const value of snapshots) {
    const snapshot = TemplateSnapshot.safeParse(value);
    if (!snapshot.success) {
      failed.push({ templateId: 'unknown', error: 'malformed template snapshot in the job' });
      continue;
    }
    const { id, template_id: templateId, sha256, yaml } = snapshot.data;
    try {
      templates.push({ template: parseTemplate(yaml), source: 'user', ref: id, sha256 });
      ran.push({ id, templateId, sha256 });
    } catch (error) {
      failed.push({ templateId, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { templates, failed, ran };
}

export function createRunner(): ScannerRunner {
  return async ({ host, target, config, timeoutMs, signal, onProgress }) => {
    const nucleiConfig = config as NucleiScanConfig;
    const mode = nucleiConfig.scan_mode === 'full' ? 'full' : 'quick';
    const user = loadUserTemplates(nucleiConfig.template_snapshots ?? []);
    const origin = target.url
      ? { scheme: target.url.scheme, hostname: target.hostname, port: target.url.port }
      : await chooseOrigin(host, target.hostname, signal);
    const { findings, result } = await runTemplates({
      address: host,
      origin,
      ...(target.url ? { basePath: target.url.path } : {}),
      mode,
      signal,
      onProgress,
      budget: {
        // The user's templates get their own requests on top of the profile's budget (at most 20 × 50).
        maxRequests: DEFAULT_MAX_REQUESTS[mode] + user.templates.reduce((n, t) => n + t.template.requestCount, 0),
        totalTimeMs: Math.max(30_000, timeoutMs - REPORT_MARGIN_MS),
      },
      templates: [...templatesForMode(mode), ...user.templates],
      userTemplates: user.ran,
      failed: user.failed,
    });
    return { findings, scanResult: result };
  };
}
