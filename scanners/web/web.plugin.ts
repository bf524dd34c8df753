import { z } from 'zod';
import { LenientBoolean, minutes, strictConfig } from '../shared/configFields.js';
import { defineScanner } from '../shared/scanner.js';

/** OWASP ZAP-style web application scanner (native engine in scanners/web/). */
export const webScanner = defineScanner({
  type: 'zap',
  title: 'OWASP ZAP (web application)',
  description:
    "Web application scan speaking ZAP's rules: baseline = spider + passive rules (5 credits); full = baseline " +
    'plus safe active checks (10 credits).',
  configSchema: strictConfig('zap', {
    scan_mode: z.enum(['baseline', 'full'], { error: 'scan_mode must be baseline or full' }).default('baseline'),
    spider_enabled: LenientBoolean.default(true),
  }),
  profiles: [
    { name: 'baseline', credits: 5, typicalMinutes: 20, description: 'ZAP baseline' },
    { name: 'full', credits: 10, typicalMinutes: 45, description: 'ZAP full' },
  ],
  profileOf: (config) => config.scan_mode,
  timeoutMs: (config) => (config.scan_mode === 'full' ? minutes(90) : minutes(40)),
  targetTypes: ['ip', 'hostname', 'url'],
  resultSchema: z.record(z.string(), z.unknown()),
});
