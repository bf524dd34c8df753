/**
 * A test scanner that reports the findings its scan_config lists, as they are
 * (names with HTML, cells with formulas, any location): for the report tests. Added
 * to the registry by one line, like the echo scanner; it never touches the network.
 */
import { z } from 'zod';
import { ScannerFinding } from '../../../../domain/shared/finding.js';
import { strictConfig } from '../../../../scanners/shared/configFields.js';
import { defineScanner } from '../../../../scanners/shared/scanner.js';

export const cannedScanner = defineScanner({
  type: 'canned',
  title: 'Canned findings (test scanner)',
  description: 'Reports the findings its config lists.',
  configSchema: strictConfig('canned', {
    findings: z.array(ScannerFinding).max(200).default([]),
    /** Fail the scan with this message instead. */
    fail_with: z.string().max(200).optional(),
  }),
  profiles: [{ name: 'standard', credits: 0, typicalMinutes: 1, description: 'Canned findings' }],
  profileOf: () => 'standard',
  timeoutMs: () => 60_000,
  targetTypes: ['ip', 'hostname', 'url'],
  resultSchema: z.object({ reported: z.number().int() }),
  loadRunner: async () => (await import('./canned.runner.js')).createRunner(),
});
