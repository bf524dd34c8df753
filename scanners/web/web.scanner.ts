/**
 * The `zap` runner (loaded by workers only): the native engine (webScan.ts) on the
 * checked address, or — when `ZAP_API_URL` is set — the operator's ZAP daemon
 * (zapDaemon.ts). The scan's own time budget is the profile's timeout less a minute,
 * so it ends with what it has (limits_reached: 'time') before the worker gives up on it.
 */
import { formatOrigin } from '../shared/httpClient.js';
import type { ScannerRunner, ScannerSettings } from '../shared/scanner.js';
import { scanWebApp } from './webScan.js';
import { resolveWebTarget } from './webTarget.js';
import { scanWithZapDaemon } from './zapDaemon.js';

export interface WebScanConfig {
  readonly scan_mode: 'baseline' | 'full';
  readonly spider_enabled: boolean;
}

export function createRunner(settings: ScannerSettings): ScannerRunner {
  const apiUrl = typeof settings.ZAP_API_URL === 'string' && settings.ZAP_API_URL ? settings.ZAP_API_URL : undefined;
  const apiKey = typeof settings.ZAP_API_KEY === 'string' && settings.ZAP_API_KEY ? settings.ZAP_API_KEY : undefined;
  return async ({ host, target, config, timeoutMs, signal, onProgress }) => {
    const { scan_mode: mode, spider_enabled: spider } = config as unknown as WebScanConfig;
    const totalTimeMs = Math.max(30_000, timeoutMs - 60_000);
    if (apiUrl) {
      const startUrl =
        target.type === 'url' && target.url
          ? `${formatOrigin({ scheme: target.url.scheme, hostname: target.hostname, port: target.url.port })}${target.url.path || '/'}`
          : `${formatOrigin({ scheme: 'http', hostname: target.hostname, port: 80 })}/`;
      const { findings, result } = await scanWithZapDaemon(
        { apiUrl, apiKey },
        { startUrl, mode, spider, signal, onProgress, totalTimeMs },
      );
      return { findings, scanResult: result };
    }
    const web = await resolveWebTarget(target, host, { signal });
    const { findings, result } = await scanWebApp({
      address: host,
      origin: web.origin,
      startPath: web.startPath,
      mode,
      spider,
      signal,
      onProgress,
      budget: { totalTimeMs },
      notes: web.notes,
      extraRequests: web.requests,
    });
    return { findings, scanResult: result };
  };
}
