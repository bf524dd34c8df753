/**
 * The scanners, as a list of plug-ins (scanners/shared/scanner.ts). Routes
 * (`/<type>/scan/`, `/scans/create/`), prices (`GET /plans/`), scan_config
 * validation, the worker's scanner list, settings and the docs all derive from
 * this list: adding a scanner is one folder and one line here.
 *
 * This module imports plug-in definitions only, never runners: the API process
 * can load it without loading any scanner engine.
 */
import { nmapScanner } from './nmap/nmap.plugin.js';
import { nucleiScanner } from './nuclei/nuclei.plugin.js';
import type { AnyScannerPlugin, ScanProfile } from './shared/scanner.js';
import { tlsScanner } from './tls/tls.plugin.js';
import { vulnScanner } from './vuln/vuln.plugin.js';
import { webScanner } from './web/web.plugin.js';

export const BUILT_IN_SCANNERS: readonly AnyScannerPlugin[] = [
  nmapScanner,
  tlsScanner,
  webScanner,
  nucleiScanner,
  vulnScanner,
];

/** One row of the public price list. */
export interface ScanPrice {
  readonly scanner_type: string;
  readonly scan_profile: string;
  readonly credits: number;
  readonly typical_minutes: number;
  readonly description: string;
}

export interface ScannerRegistry {
  readonly plugins: readonly AnyScannerPlugin[];
  /** Every scanner_type, in registry order. */
  readonly types: readonly string[];
  get(type: string): AnyScannerPlugin | undefined;
  /** The priced profile, or undefined. */
  profile(type: string, profile: string): ScanProfile | undefined;
  readonly prices: readonly ScanPrice[];
}

const TYPE = /^[a-z][a-z0-9_-]{1,31}$/;

export function scannerRegistry(plugins: readonly AnyScannerPlugin[] = BUILT_IN_SCANNERS): ScannerRegistry {
  const byType = new Map<string, AnyScannerPlugin>();
  for (const plugin of plugins) {
    if (!TYPE.test(plugin.type)) throw new Error(`scanner type "${plugin.type}" must match ${String(TYPE)}`);
    if (byType.has(plugin.type)) throw new Error(`two scanners named "${plugin.type}"`);
    if (plugin.profiles.length === 0) throw new Error(`scanner "${plugin.type}" has no profile`);
    byType.set(plugin.type, plugin);
  }
  const prices = plugins.flatMap((plugin) =>
    plugin.profiles.map((p) => ({
      scanner_type: plugin.type,
      scan_profile: p.name,
      credits: p.credits,
      typical_minutes: p.typicalMinutes,
      description: p.description,
    })),
  );
  return {
    plugins,
    types: plugins.map((p) => p.type),
    get: (type) => byType.get(type),
    profile: (type, profile) => byType.get(type)?.profiles.find((p) => p.name === profile),
    prices,
  };
}

/** The built-in registry (validation and pricing do not depend on where binaries are). */
export const SCANNERS = scannerRegistry();
