/**
 * The engines a worker's vulnerability scan composes. Integration (one import each):
 *
 *   import { analyzeTlsEndpoint, speaksTls } from '../tls/tlsAnalysis.js';
 *   import { scanWebApp } from '../web/webScan.js';
 *   import { runTemplateScan } from '../nuclei/nucleiScan.js';
 *   export const defaultEngines: VulnEngines = { analyzeTlsEndpoint, speaksTls, scanWebApp, runTemplateScan };
 *
 * Until those modules exist on this branch, every engine answers
 * ScannerUnavailableError: a scan that needs one records that engine's phase as
 * failed, with the reason (discovery and NSE still run). The plug-in has no
 * `loadRunner` until then, so no user scan runs on these placeholders.
 */
import { ScannerUnavailableError } from '../shared/errors.js';
import type { VulnEngines } from './engines.js';

const notIntegrated = (engine: string) => () =>
  Promise.reject(new ScannerUnavailableError(`the ${engine} engine is not integrated in this build`));

export const defaultEngines: VulnEngines = {
  analyzeTlsEndpoint: notIntegrated('TLS'),
  speaksTls: notIntegrated('TLS'),
  scanWebApp: notIntegrated('web'),
  runTemplateScan: notIntegrated('template'),
};
