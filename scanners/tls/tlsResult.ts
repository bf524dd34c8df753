/**
 * The `scan_result` of a TLS scan (the `sslyze` scanner), as a zod schema: the
 * reference's shape (`certificate_info{valid, issuer, expires, …}`,
 * `tls_versions{ssl_2_0 … tls_1_3}`, `vulnerabilities[]`) plus cipher suites, key
 * exchange, the security checks and what the scan could not finish. Imported by the
 * plug-in definition (API side): zod only, no engine code.
 */
import { z } from 'zod';

const Risk = z.enum(['critical', 'high', 'medium', 'low', 'info']);

export const ProtocolKeys = ['ssl_2_0', 'ssl_3_0', 'tls_1_0', 'tls_1_1', 'tls_1_2', 'tls_1_3'] as const;

const TlsVersions = z.object({
  ssl_2_0: z.boolean(),
  ssl_3_0: z.boolean(),
  tls_1_0: z.boolean(),
  tls_1_1: z.boolean(),
  tls_1_2: z.boolean(),
  tls_1_3: z.boolean(),
});

const KeyExchange = z.object({
  /** 'ECDH' (curve or TLS 1.3 group), 'DH' (prime), 'RSA' (export key). */
  type: z.enum(['ECDH', 'DH', 'RSA']),
  group: z.string().nullable(),
  bits: z.number().int(),
});

const SuiteEntry = z.object({
  /** "0xC02F" (TLS) or "0x0700C0" (SSLv2). */
  id: z.string(),
  /** IANA name (or the best-known name of an unregistered suite). */
  name: z.string(),
  openssl_name: z.string().nullable(),
  bits: z.number().int(),
  strength: z.enum(['insecure', 'weak', 'acceptable', 'strong']),
  forward_secrecy: z.boolean(),
  aead: z.boolean(),
  /** 'null', 'anonymous', 'export', 'rc4', 'des', '64bit_block', 'md5', 'no_forward_secrecy', 'cbc_tls1_0'. */
  weaknesses: z.array(z.string()),
  /** What this suite's handshake used (TLS 1.0-1.2: from ServerKeyExchange; TLS 1.3: key_share). */
  key_exchange: KeyExchange.nullable(),
});

const VersionSuites = z.object({
  supported: z.boolean(),
  /** true: the server imposes its order (suites listed in it); false: it follows the client's; null: unknown or < 2 suites. */
  server_preference: z.boolean().nullable(),
  /** The suite the server picks first (its favourite, or the first of ours it accepts). */
  preferred: z.string().nullable(),
  suites: z.array(SuiteEntry),
  incomplete: z.boolean(),
});

const GroupEntry = z.object({ id: z.number().int(), name: z.string(), bits: z.number().int() });

const ChainEntry = z.object({
  subject: z.string(),
  issuer: z.string(),
  serial_number: z.string(),
  not_before: z.string(),
  not_after: z.string(),
  signature_algorithm: z.string(),
  key_type: z.string(),
  key_bits: z.number().int(),
  key_curve: z.string().nullable(),
  fingerprint_sha256: z.string(),
  is_ca: z.boolean(),
  self_signed: z.boolean(),
  trust_anchor: z.boolean(),
});

const Ocsp = z.object({
  stapled: z.boolean(),
  must_staple: z.boolean(),
  response_status: z.string().nullable(),
  cert_status: z.enum(['good', 'revoked', 'unknown']).nullable(),
  this_update: z.string().nullable(),
  next_update: z.string().nullable(),
  error: z.string().nullable(),
});

const CertificateReport = z.object({
  valid: z.boolean(),
  subject: z.string(),
  issuer: z.string(),
  common_name: z.string().nullable(),
  expires: z.string(),
  not_before: z.string(),
  not_after: z.string(),
  days_until_expiry: z.number().int(),
  expired: z.boolean(),
  not_yet_valid: z.boolean(),
  expires_soon: z.boolean(),
  subject_alt_names: z.array(z.string()),
  hostname: z.string(),
  hostname_matches: z.boolean(),
  serial_number: z.string(),
  serial_bits: z.number().int(),
  fingerprint_sha256: z.string(),
  fingerprint_sha1: z.string(),
  signature_algorithm: z.string(),
  signature_hash: z.string(),
  key_type: z.string(),
  key_bits: z.number().int(),
  key_curve: z.string().nullable(),
  trusted: z.boolean(),
  self_signed: z.boolean(),
  trust_error: z.string().nullable(),
  trust_path: z.array(z.string()),
  chain_order_ok: z.boolean(),
  chain: z.array(ChainEntry),
  sha1_signed: z.array(z.string()),
  md5_signed: z.array(z.string()),
  weak_keys: z.array(z.string()),
  certificate_transparency: z.boolean(),
  ocsp_urls: z.array(z.string()),
  crl_urls: z.array(z.string()),
  ocsp: Ocsp,
});

export const CertificateInfo = CertificateReport.extend({
  /** The protocol of the handshake the certificate came from ('TLSv1.3', 'TLSv1.2', …). */
  protocol: z.string(),
  /** Other certificates the server presents (e.g. ECDSA and RSA on one server), judged the same way. */
  additional_certificates: z.array(CertificateReport.extend({ protocol: z.string(), used_for: z.string() })),
});

const Status = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values);

export const SecurityChecks = z.object({
  heartbleed: Status(['vulnerable', 'not_vulnerable', 'not_applicable', 'error']),
  heartbeat_extension: z.boolean().nullable(),
  /** Early ChangeCipherSpec accepted (OpenSSL CCS injection, CVE-2014-0224). */
  ccs_injection: Status(['vulnerable', 'not_vulnerable', 'not_applicable', 'error']),
  /** TLS compression (CRIME). */
  compression: Status(['supported', 'not_supported', 'not_applicable', 'error']),
  /** RFC 5746 renegotiation_info in the ServerHello (null: only TLS 1.3 / SSLv2, where it does not apply). */
  secure_renegotiation: z.boolean().nullable(),
  /** Client-initiated renegotiation: 'allowed' (5 in a row), 'limited' (rate-limited), 'refused'. */
  client_renegotiation: Status(['allowed', 'limited', 'refused', 'not_applicable', 'error']),
  fallback_scsv: Status(['supported', 'not_supported', 'not_applicable', 'error']),
  extended_master_secret: z.boolean().nullable(),
  ocsp_stapling: z.boolean().nullable(),
  hsts: z.object({
    status: Status(['present', 'missing', 'invalid', 'not_applicable', 'error']),
    header: z.string().nullable(),
    max_age: z.number().nullable(),
    include_subdomains: z.boolean(),
    preload: z.boolean(),
    url: z.string().nullable(),
    http_status: z.number().int().nullable(),
    /** Content-Encoding of the answer when gzip/deflate/br were offered (BREACH precondition). */
    http_compression: z.string().nullable(),
    error: z.string().nullable(),
  }),
});

export const TlsScanResultSchema = z.object({
  /** The target's name (never the address it resolved to) and the port scanned. */
  host: z.string(),
  port: z.number().int(),
  /** The SNI name sent (null for an IP target). */
  sni: z.string().nullable(),
  checks: z.object({ certificate: z.boolean(), tls_versions: z.boolean(), cipher_suites: z.boolean() }),
  /** null when check_tls_versions is false. */
  tls_versions: TlsVersions.nullable(),
  /** null when check_certificate is false (or no certificate could be read: see scan_info.notes). */
  certificate_info: CertificateInfo.nullable(),
  /** Per protocol; null when check_cipher_suites is false. */
  cipher_suites: z
    .object({
      ssl_2_0: VersionSuites,
      ssl_3_0: VersionSuites,
      tls_1_0: VersionSuites,
      tls_1_1: VersionSuites,
      tls_1_2: VersionSuites,
      tls_1_3: VersionSuites,
    })
    .nullable(),
  /** Groups the server accepts (TLS 1.2 ECDHE curves, TLS 1.3 groups) and the weakest DH/ECDH seen. */
  key_exchange: z
    .object({
      tls_1_2_curves: z.array(GroupEntry),
      tls_1_3_groups: z.array(GroupEntry),
      min_dh_bits: z.number().int().nullable(),
      min_ecdh_bits: z.number().int().nullable(),
      incomplete: z.boolean(),
    })
    .nullable(),
  security_checks: SecurityChecks,
  /** What is wrong (every finding above info), most severe first. */
  vulnerabilities: z.array(
    z.object({ id: z.string(), name: z.string(), risk: Risk, cve: z.array(z.string()).optional() }),
  ),
  scan_info: z.object({
    engine: z.string(),
    handshakes: z.number().int(),
    /** The most connections that were open at once (the limit is 4 by default). */
    max_parallel_connections: z.number().int(),
    duration_ms: z.number().int(),
    /** Something could not be checked (see notes): lists may be short. */
    incomplete: z.boolean(),
    notes: z.array(z.string()),
  }),
});

export type TlsScanResult = z.infer<typeof TlsScanResultSchema>;
export type CertificateInfo = z.infer<typeof CertificateInfo>;
export type VersionSuites = z.infer<typeof VersionSuites>;
export type SuiteEntry = z.infer<typeof SuiteEntry>;
export type SecurityChecks = z.infer<typeof SecurityChecks>;
export type ProtocolKey = (typeof ProtocolKeys)[number];
