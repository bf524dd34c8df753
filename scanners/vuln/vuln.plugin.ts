import { z } from 'zod';
import { minutes, strictConfig } from '../shared/configFields.js';
import { defineScanner } from '../shared/scanner.js';
import { VulnScanResultSchema } from './vulnResultSchema.js';

/**
 * OpenVAS-style vulnerability assessment (scanners/vuln/): nmap discovery and NSE
 * scripts composed with our TLS, web and template engines; or a real Greenbone through
 * GMP when the operator configures one (GVM_*). Docs: docs/scanners/openvas.md.
 */
export const vulnScanner = defineScanner({
  type: 'openvas',
  title: 'OpenVAS (vulnerabilities)',
  description:
    'Whole-host vulnerability assessment. discovery (10 credits): reachability, the TCP ports of port_list, ' +
    'service and version detection, banners and a service inventory with CPEs. full_and_fast (15): discovery, ' +
    "then nmap's NSE scripts of the vuln, safe and default categories that are not intrusive, our TLS analysis " +
    'on every TLS port, and a baseline web scan and quick templates on every HTTP(S) port. deep (20): every TCP ' +
    'port, exhaustive version detection, the discovery scripts that stay on the target, the full web scan and ' +
    'all templates. Each finding names the engine that found it.',
  configSchema: strictConfig('openvas', {
    scan_profile: z
      .enum(['discovery', 'full_and_fast', 'deep'], { error: 'scan_profile must be discovery, full_and_fast or deep' })
      .default('discovery'),
    port_list: z
      .enum(['all_tcp', 'top_1000_tcp'], { error: 'port_list must be all_tcp or top_1000_tcp' })
      .default('all_tcp'),
  }),
  profiles: [
    { name: 'discovery', credits: 10, typicalMinutes: 30, description: 'OpenVAS discovery' },
    { name: 'full_and_fast', credits: 15, typicalMinutes: 60, description: 'OpenVAS full_and_fast' },
    { name: 'deep', credits: 20, typicalMinutes: 120, description: 'OpenVAS deep' },
  ],
  profileOf: (config) => config.scan_profile,
  timeoutMs: (config) =>
    minutes(config.scan_profile === 'deep' ? 240 : config.scan_profile === 'full_and_fast' ? 120 : 60),
  targetTypes: ['ip', 'hostname', 'url'],
  // deep always scans every TCP port, whatever port_list says.
  coverageOf: (config) => `${config.scan_profile}:${config.scan_profile === 'deep' ? 'all_tcp' : config.port_list}`,
  resultSchema: VulnScanResultSchema,
  settingsSchema: z.object({
    /** nmap's script index (default /usr/share/nmap/scripts/script.db). The nmap binary is SECABLY_NMAP_PATH. */
    SECABLY_NMAP_SCRIPT_DB: z.string().min(1).optional(),
    /** nmap's service list, for a Greenbone scan of nmap's top 1000 ports (default /usr/share/nmap/nmap-services). */
    SECABLY_NMAP_SERVICES: z.string().min(1).optional(),
    /** A Greenbone gvmd to run the scans instead of the composed engine: its host (GMP over TLS) ... */
    GVM_HOST: z.string().min(1).optional(),
    /** ... and port (default 9390), */
    GVM_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /** ... or its Unix socket (e.g. /run/gvmd/gvmd.sock), not both. */
    GVM_SOCKET: z.string().min(1).optional(),
    GVM_USERNAME: z.string().min(1).optional(),
    GVM_PASSWORD: z.string().min(1).optional(),
    /** GMP over TLS to GVM_HOST (default true; false = plain TCP, e.g. through an SSH tunnel). */
    GVM_TLS: z.enum(['true', 'false']).optional(),
    /** PEM file of the CA that signed gvmd's certificate (default: the system's CAs). */
    GVM_CA_FILE: z.string().min(1).optional(),
    /** The name to check gvmd's certificate against (default GVM_HOST). */
    GVM_TLS_SERVERNAME: z.string().min(1).optional(),
    /** Skip the certificate check (only for a self-signed gvmd on a trusted network). */
    GVM_TLS_INSECURE: z.enum(['true', 'false']).optional(),
    /** The scanner gvmd runs tasks on (default "OpenVAS Default", 08b69003-5fc2-4037-a479-93b440211c73). */
    GVM_SCANNER_ID: z.string().min(1).optional(),
    /** How often to ask gvmd how the task goes (default 15). */
    GVM_POLL_SECONDS: z.coerce.number().positive().optional(),
  }),
  debianPackages: ['nmap'],
  // Live once the TLS, web and template engines are wired into defaultEngines.ts (integration):
  loadRunner: async (settings) => (await import('./vuln.scanner.js')).createRunner(settings),
});
