/**
 * The `sslyze` runner: the worker hands over the checked address and the target;
 * this picks the port, runs `analyzeTlsEndpoint` within the scan's time budget and
 * returns its findings and `scan_result`.
 *
 * - Port: `scan_config.port`, else a URL target's port (an http:// URL on port 80
 *   means its HTTPS site on 443), else 443.
 * - HSTS is checked on an https:// URL's path, or on '/' of any other target on 443.
 * - Timeout: the scan's `timeoutMs` aborts every connection (ScanTimeoutError);
 *   cancel/shutdown abort it too (ScanAbortedError).
 */
import { setMaxListeners } from 'node:events';
import { ScanAbortedError, ScanTimeoutError } from '../shared/errors.js';
import type { ScannerRunner, ScannerSettings, ScanTarget } from '../shared/scanner.js';
import type { TlsScanConfig } from './tls.plugin.js';
import { analyzeTlsEndpoint } from './tlsAnalysis.js';

/** The port a scan of `target` with `config` connects to. */
export function tlsPortOf(target: ScanTarget, config: Pick<TlsScanConfig, 'port'>): number {
  if (config.port !== undefined) return config.port;
  if (target.url) return target.url.scheme === 'http' && target.url.port === 80 ? 443 : target.url.port;
  return 443;
}

/** The path to read HSTS from, or undefined (the analysis checks '/' on port 443 only). */
export function hstsPathOf(target: ScanTarget, port: number): string | null | undefined {
  if (target.url?.scheme === 'https' || (target.url && port === 443)) return target.url.path;
  return undefined;
}

export function createRunner(settings: ScannerSettings): ScannerRunner {
  const handshakeTimeoutMs =
    typeof settings.SECABLY_TLS_HANDSHAKE_TIMEOUT_MS === 'number'
      ? settings.SECABLY_TLS_HANDSHAKE_TIMEOUT_MS
      : undefined;
  const maxConnections =
    typeof settings.SECABLY_TLS_MAX_CONNECTIONS === 'number' ? settings.SECABLY_TLS_MAX_CONNECTIONS : undefined;
  return async ({ host, target, config, timeoutMs, signal, onProgress }) => {
    const tlsConfig = config as TlsScanConfig;
    const port = tlsPortOf(target, tlsConfig);
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort('timeout');
    }, timeoutMs);
    const onAbort = () => controller.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    try {
      const { findings, result } = await analyzeTlsEndpoint({
        address: host,
        port,
        hostname: target.hostname,
        signal: controller.signal,
        onProgress,
        checks: {
          certificate: tlsConfig.check_certificate,
          versions: tlsConfig.check_tls_versions,
          cipherSuites: tlsConfig.check_cipher_suites,
        },
        httpPath: hstsPathOf(target, port),
        ...(handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs } : {}),
        ...(maxConnections !== undefined ? { maxConnections } : {}),
      });
      return { findings, scanResult: result };
    } catch (error) {
      if (timedOut && (error instanceof ScanAbortedError || controller.signal.aborted)) {
        throw new ScanTimeoutError(`the TLS scan did not finish within ${Math.round(timeoutMs / 1000)} s`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  };
}
