/**
 * The `openvas` scanner's runner (loaded by workers only, through the plug-in's
 * `loadRunner`).
 *
 * - With GVM_* settings (a Greenbone gvmd the operator runs), the scan runs through
 *   gvmd's GMP protocol (gvm/gvmScan.ts).
 * - Otherwise, the default: the composed scan (composedScan.ts) — nmap discovery and
 *   NSE scripts, then our TLS, web and template engines on the services found.
 *
 * `createRunnerWith(engines, settings)` takes the engines as a parameter (tests inject
 * fakes); `createRunner(settings)` uses the worker's real engines (defaultEngines.ts).
 */
import type { ScannerRunner, ScannerSettings } from '../shared/scanner.js';
import { DEFAULT_SCRIPT_DB, runComposedScan } from './composedScan.js';
import { defaultEngines } from './defaultEngines.js';
import type { VulnEngines } from './engines.js';
import { gvmSettingsOf, runGvmScan, type GvmScanHooks } from './gvm/gvmScan.js';
import type { PortSelection } from './vulnPlan.js';

export interface RunnerHooks extends GvmScanHooks {
  /** Replaces the profile's ports (tests and benchmarks on loopback scan only their own services). */
  readonly ports?: PortSelection;
  /** Every nmap process started, with its arguments. */
  readonly onNmapSpawn?: (pid: number, args: readonly string[]) => void;
}

function stringSetting(settings: ScannerSettings, name: string): string | undefined {
  const value = settings[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function createRunnerWith(
  engines: VulnEngines,
  settings: ScannerSettings,
  hooks: RunnerHooks = {},
): ScannerRunner {
  const gvm = gvmSettingsOf(settings);
  if (gvm) return (input) => runGvmScan(input, gvm, hooks);
  const nmapPath = stringSetting(settings, 'SECABLY_NMAP_PATH') ?? 'nmap';
  const scriptDbPath = stringSetting(settings, 'SECABLY_NMAP_SCRIPT_DB') ?? DEFAULT_SCRIPT_DB;
  return (input) =>
    runComposedScan(input, {
      engines,
      nmapPath,
      scriptDbPath,
      ...(hooks.ports ? { ports: hooks.ports } : {}),
      ...(hooks.onNmapSpawn ? { onNmapSpawn: hooks.onNmapSpawn } : {}),
    });
}

/** The worker's runner, with the real engines. */
export function createRunner(settings: ScannerSettings): ScannerRunner {
  return createRunnerWith(defaultEngines, settings);
}
