import { z } from 'zod';
import { LenientBoolean, minutes, strictConfig } from '../shared/configFields.js';
import { defineScanner } from '../shared/scanner.js';
import { WebScanResultSchema } from './webResult.js';

/** An optional setting; an empty value (`ZAP_API_URL=` in a compose file) counts as unset. */
const unsetWhenEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/**
 * OWASP ZAP-style web application scanner. The native engine (scanners/web/) speaks
 * ZAP's rule ids, names, risks and confidences; with ZAP_API_URL set, a real ZAP daemon
 * runs the scan instead. See docs/scanners/zap.md.
 */
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
  coverageOf: (config) => `${config.scan_mode}:${config.spider_enabled ? 'spider' : 'start-page'}`,
  resultSchema: WebScanResultSchema,
  settingsSchema: z.object({
    /** A ZAP daemon's API (e.g. http://zap:8080): when set, zap scans run on it instead of the native engine. */
    ZAP_API_URL: unsetWhenEmpty(z.url({ protocol: /^https?$/, error: 'ZAP_API_URL must be an http(s) URL' })),
    /** The daemon's API key (sent as X-ZAP-API-Key). */
    ZAP_API_KEY: unsetWhenEmpty(z.string()),
  }),
  loadRunner: async (settings) => (await import('./web.scanner.js')).createRunner(settings),
});
