import { z } from 'zod';
import { LenientBoolean, minutes, strictConfig } from '../shared/configFields.js';
import { defineScanner } from '../shared/scanner.js';

/** SSLyze-style TLS/SSL analysis (native engine in scanners/tls/). */
export const tlsScanner = defineScanner({
  type: 'sslyze',
  title: 'SSLyze (TLS/SSL)',
  description:
    'TLS/SSL configuration analysis: protocol versions, cipher suites, certificate and chain, and known ' +
    'TLS vulnerabilities of a host[:port] or URL (default port 443). Free.',
  configSchema: strictConfig('sslyze', {
    check_certificate: LenientBoolean.default(true),
    check_tls_versions: LenientBoolean.default(true),
    check_cipher_suites: LenientBoolean.default(true),
  }),
  profiles: [{ name: 'default', credits: 0, typicalMinutes: 1, description: 'SSLyze TLS/SSL' }],
  profileOf: () => 'default',
  timeoutMs: () => minutes(10),
  targetTypes: ['ip', 'hostname', 'url'],
  resultSchema: z.record(z.string(), z.unknown()),
});
