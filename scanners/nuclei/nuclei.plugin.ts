import { z } from 'zod';
import { minutes, strictConfig } from '../shared/configFields.js';
import { defineScanner } from '../shared/scanner.js';

/** Nuclei-template scanner (native template engine in scanners/nuclei/). */
export const nucleiScanner = defineScanner({
  type: 'nuclei',
  title: 'Nuclei (templates)',
  description:
    'Checks written as nuclei templates: quick = the high-signal subset (2 credits), full = all (3 credits).',
  configSchema: strictConfig('nuclei', {
    scan_mode: z.enum(['quick', 'full'], { error: 'scan_mode must be quick or full' }).default('quick'),
  }),
  profiles: [
    { name: 'quick', credits: 2, typicalMinutes: 3, description: 'Nuclei quick' },
    { name: 'full', credits: 3, typicalMinutes: 10, description: 'Nuclei full' },
  ],
  profileOf: (config) => config.scan_mode,
  timeoutMs: (config) => (config.scan_mode === 'full' ? minutes(30) : minutes(10)),
  targetTypes: ['ip', 'hostname', 'url'],
  resultSchema: z.record(z.string(), z.unknown()),
});
