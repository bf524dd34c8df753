import { z } from 'zod';
import type { ScannerType } from '../domain/scans/scan.events.js';
import { nmapProfileTimeoutMs, NmapScanConfig } from './nmap/nmapConfig.js';
import { runNmap } from './nmap/nmap.scanner.js';
import type { ScannerDefinition } from './scanner.js';

const lenientBoolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')], {
  error: 'must be true or false',
});

const minutes = (n: number) => n * 60_000;

const nmap = (nmapPath?: string): ScannerDefinition => ({
  type: 'nmap',
  title: 'Nmap (ports, services)',
  configSchema: NmapScanConfig,
  profileOf: (config) => String(config.scan_type),
  // nmap's own --host-timeout is the profile's; the process gets a minute more to report.
  timeoutMs: (config) => nmapProfileTimeoutMs(config as NmapScanConfig) + minutes(1),
  run: async ({ host, config, timeoutMs, signal, onProgress }) => {
    const run = await runNmap({
      target: host,
      config: config as NmapScanConfig,
      timeoutMs,
      signal,
      onProgress,
      ...(nmapPath ? { nmapPath } : {}),
    });
    return { findings: run.findings, scanResult: run.scanResult as unknown as Record<string, unknown> };
  },
});

const sslyze: ScannerDefinition = {
  type: 'sslyze',
  title: 'SSLyze (TLS/SSL)',
  configSchema: z.strictObject({
    check_certificate: lenientBoolean.default(true),
    check_tls_versions: lenientBoolean.default(true),
    check_cipher_suites: lenientBoolean.default(true),
  }),
  profileOf: () => 'default',
  timeoutMs: () => minutes(10),
};

const zap: ScannerDefinition = {
  type: 'zap',
  title: 'OWASP ZAP (web application)',
  configSchema: z.strictObject({
    scan_mode: z.enum(['baseline', 'full']).default('baseline'),
    spider_enabled: lenientBoolean.default(true),
  }),
  profileOf: (config) => String(config.scan_mode),
  timeoutMs: (config) => (config.scan_mode === 'full' ? minutes(90) : minutes(40)),
};

const nuclei: ScannerDefinition = {
  type: 'nuclei',
  title: 'Nuclei (templates)',
  configSchema: z.strictObject({ scan_mode: z.enum(['quick', 'full']).default('quick') }),
  profileOf: (config) => String(config.scan_mode),
  timeoutMs: (config) => (config.scan_mode === 'full' ? minutes(30) : minutes(10)),
};

const openvas: ScannerDefinition = {
  type: 'openvas',
  title: 'OpenVAS (vulnerabilities)',
  configSchema: z.strictObject({
    scan_profile: z.enum(['discovery', 'full_and_fast', 'deep']).default('discovery'),
    port_list: z.enum(['all_tcp', 'top_1000_tcp']).default('all_tcp'),
  }),
  profileOf: (config) => String(config.scan_profile),
  timeoutMs: (config) =>
    minutes(config.scan_profile === 'deep' ? 240 : config.scan_profile === 'full_and_fast' ? 120 : 60),
};

/** The scanners; `nmapPath` is where the nmap binary is (default: `nmap` on PATH). */
export function createScanners(options: { nmapPath?: string } = {}): Readonly<Record<ScannerType, ScannerDefinition>> {
  return { nmap: nmap(options.nmapPath), sslyze, zap, nuclei, openvas };
}

/** Validation and pricing do not depend on where binaries are. */
export const SCANNERS = createScanners();
