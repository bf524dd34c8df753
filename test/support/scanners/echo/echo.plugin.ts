/**
 * A test scanner, added to the registry by one line (`scannerRegistry([...BUILT_IN_SCANNERS, echoScanner])`):
 * it answers with the findings its config asks for, without touching the network.
 * Used to prove the plug-in boundary (routes, prices, validation from the plug-in alone)
 * and the size budget (tens of thousands of findings).
 */
import { z } from 'zod';
import { LenientBoolean, strictConfig } from '../../../../scanners/shared/configFields.js';
import { defineScanner } from '../../../../scanners/shared/scanner.js';

export const echoScanner = defineScanner({
  type: 'echo',
  title: 'Echo (test scanner)',
  description: 'Reports the findings its config asks for.',
  configSchema: strictConfig('echo', {
    mode: z.enum(['light', 'heavy'], { error: 'mode must be light or heavy' }).default('light'),
    findings: z.number().int().min(0).max(50_000).default(3),
    /** Bytes of evidence per finding. */
    evidence_bytes: z.number().int().min(0).max(5_000).default(10),
    /** Bytes of padding in scan_result. */
    result_bytes: z.number().int().min(0).max(2_000_000).default(0),
    /** Locations differ per run (the same rule everywhere, at new places). */
    salt: z.string().max(20).default(''),
    slow: LenientBoolean.default(false),
  }),
  profiles: [
    { name: 'light', credits: 0, typicalMinutes: 1, description: 'Echo light' },
    { name: 'heavy', credits: 2, typicalMinutes: 2, description: 'Echo heavy' },
  ],
  profileOf: (config) => config.mode,
  timeoutMs: () => 60_000,
  targetTypes: ['ip', 'hostname'],
  resultSchema: z.object({ reported: z.number().int(), padding: z.string() }),
  loadRunner: async () => (await import('./echo.runner.js')).createRunner(),
});
