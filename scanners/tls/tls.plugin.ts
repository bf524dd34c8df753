import { z } from 'zod';
import { LenientBoolean, minutes, strictConfig } from '../shared/configFields.js';
import { defineScanner } from '../shared/scanner.js';
import { TlsScanResultSchema } from './tlsResult.js';

/** A TCP port, as a number or a string of digits ("8443"). */
const Port = z
  .union(
    [
      z.number(),
      z
        .string()
        .regex(/^\d{1,5}$/, 'must be a port number from 1 to 65535')
        .transform(Number),
    ],
    {
      error: 'must be a port number from 1 to 65535',
    },
  )
  .pipe(
    z.number().int('must be a whole number').min(1, 'must be from 1 to 65535').max(65535, 'must be from 1 to 65535'),
  );

export const TlsScanConfig = strictConfig('sslyze', {
  check_certificate: LenientBoolean.default(true),
  check_tls_versions: LenientBoolean.default(true),
  check_cipher_suites: LenientBoolean.default(true),
  /** The TLS port; default: a URL target's port (443 for an http:// URL on port 80), else 443. */
  port: Port.optional(),
});
export type TlsScanConfig = z.infer<typeof TlsScanConfig>;

/**
 * SSLyze-style TLS/SSL analysis by the native engine in scanners/tls/ (hand-built
 * handshakes; no sslyze binary): protocols SSLv2 … TLS 1.3, cipher suites with
 * preference order and key exchange, groups, the certificate chain as served,
 * Heartbleed, CRIME, renegotiation, TLS_FALLBACK_SCSV, OCSP stapling and HSTS.
 */
export const tlsScanner = defineScanner({
  type: 'sslyze',
  title: 'SSLyze (TLS/SSL)',
  description:
    "TLS/SSL configuration analysis: protocol versions (SSLv2 to TLS 1.3), cipher suites with the server's order, " +
    'key exchange groups, the certificate chain (trust, name, validity, key, signature), Heartbleed, compression ' +
    "(CRIME), renegotiation, downgrade protection, OCSP stapling and HSTS of a host, IP or URL. Port: the URL's, " +
    'else 443, or scan_config.port. Free.',
  configSchema: TlsScanConfig,
  profiles: [{ name: 'default', credits: 0, typicalMinutes: 1, description: 'SSLyze TLS/SSL' }],
  profileOf: () => 'default',
  timeoutMs: () => minutes(10),
  targetTypes: ['ip', 'hostname', 'url'],
  coverageOf: (config) =>
    `port:${config.port ?? 'target'}:${config.check_certificate ? 'c' : ''}${config.check_tls_versions ? 'v' : ''}${config.check_cipher_suites ? 's' : ''}`,
  resultSchema: TlsScanResultSchema,
  settingsSchema: z.object({
    /** Per TCP connect and per handshake, milliseconds (default 5000). */
    SECABLY_TLS_HANDSHAKE_TIMEOUT_MS: z.coerce.number().int().min(500).max(60_000).optional(),
    /** Connections at once to one scanned host (default 4). */
    SECABLY_TLS_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(16).optional(),
  }),
  loadRunner: async (settings) => (await import('./tls.scanner.js')).createRunner(settings),
});
