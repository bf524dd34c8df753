import { z } from 'zod';
import { defineScanner } from '../shared/scanner.js';
import { minutes } from '../shared/configFields.js';
import { FREE_SCAN_MAX_PORTS, NmapScanConfig, nmapProfileTimeoutMs } from './nmapConfig.js';

const OpenPort = z.object({
  port: z.number().int(),
  protocol: z.string(),
  service: z.string(),
  state: z.string(),
  product: z.string().optional(),
  version: z.string().optional(),
  extrainfo: z.string().optional(),
  tunnel: z.string().optional(),
  host: z.string(),
});

export const NmapScanResultSchema = z.object({
  open_ports: z.array(OpenPort),
  host_info: z.object({ status: z.string(), latency: z.number().nullable() }),
  hosts: z.array(
    z.object({
      address: z.string(),
      hostnames: z.array(z.string()),
      status: z.string(),
      latency: z.number().nullable(),
      timed_out: z.boolean(),
      open_port_count: z.number().int(),
    }),
  ),
  /** Set when the lists were cut to stay within the result's size budget (every open port is still a finding). */
  truncated: z.boolean().optional(),
});

/** Nmap: TCP ports and services of a host, a hostname, a URL's host or a range. */
export const nmapScanner = defineScanner({
  type: 'nmap',
  title: 'Nmap (ports, services)',
  description:
    'TCP port scan with nmap (connect scan): the open ports of a host or range, with service and version ' +
    `detection when aggressive. quick/fast: nmap's top ${FREE_SCAN_MAX_PORTS} ports, or exactly a port_range of at ` +
    'most 1,000 ports (free); full: all 65535 ports or exactly the port_range (1 credit).',
  configSchema: NmapScanConfig,
  profiles: [
    { name: 'quick', credits: 0, typicalMinutes: 1, description: 'Nmap quick (top 1000 ports)' },
    { name: 'fast', credits: 0, typicalMinutes: 1, description: 'Nmap fast (top 1000 ports)' },
    { name: 'full', credits: 1, typicalMinutes: 5, description: 'Nmap full (all 65535 ports)' },
  ],
  profileOf: (config) => config.scan_type,
  // nmap's own --host-timeout is the profile's; the process gets a minute more to report.
  timeoutMs: (config) => nmapProfileTimeoutMs(config) + minutes(1),
  targetTypes: ['ip', 'hostname', 'url', 'range'],
  coverageOf: (config) =>
    `tcp:${config.port_range ?? (config.scan_type === 'full' ? '1-65535' : 'top1000')}${config.aggressive ? ':sV' : ''}`,
  resultSchema: NmapScanResultSchema,
  settingsSchema: z.object({
    /** The nmap binary (default: `nmap` on PATH). */
    SECABLY_NMAP_PATH: z.string().min(1).optional(),
  }),
  debianPackages: ['nmap'],
  loadRunner: async (settings) => (await import('./nmap.scanner.js')).createRunner(settings),
});
