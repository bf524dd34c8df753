import { z } from 'zod';
import { minutes, strictConfig } from '../shared/configFields.js';
import { defineScanner } from '../shared/scanner.js';

/** OpenVAS-style vulnerability assessment composed of nmap NSE and our engines (scanners/vuln/). */
export const vulnScanner = defineScanner({
  type: 'openvas',
  title: 'OpenVAS (vulnerabilities)',
  description: 'Whole-host vulnerability assessment: discovery (10 credits), full_and_fast (15), deep (20).',
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
  coverageOf: (config) => `${config.scan_profile}:${config.port_list}`,
  resultSchema: z.record(z.string(), z.unknown()),
});
