/**
 * The rules from a TLS result to findings (pure), on results built here: one rule
 * per weakness, stable ids, evidence naming the protocol and suite, the config's
 * skipped parts silent, and HSTS parsing.
 */
import { describe, expect, it } from 'vitest';
import { ScannerFinding } from '../../../domain/shared/finding.js';
import { LEGACY_OFFER, suiteById } from '../../../scanners/tls/cipherSuites.js';
import { parseHsts } from '../../../scanners/tls/hsts.js';
import { fitResultToBudget, MAX_RESULT_BYTES } from '../../../scanners/tls/tlsAnalysis.js';
import { locationOf, TLS_RULES, tlsFindings } from '../../../scanners/tls/tlsFindings.rules.js';
import { TlsScanResultSchema, type SuiteEntry, type TlsScanResult } from '../../../scanners/tls/tlsResult.js';

function suite(id: number, extra: Partial<SuiteEntry> = {}): SuiteEntry {
  const s = suiteById(id);
  return {
    id: s.hex,
    name: s.name,
    openssl_name: s.opensslName,
    bits: s.bits,
    strength: s.strength,
    forward_secrecy: s.forwardSecrecy,
    aead: s.aead,
    weaknesses: [...s.weaknesses],
    key_exchange: null,
    ...extra,
  };
}

const none = { supported: false, server_preference: null, preferred: null, suites: [], incomplete: false };
const version = (suites: SuiteEntry[], serverPreference: boolean | null = true) => ({
  supported: suites.length > 0,
  server_preference: serverPreference,
  preferred: suites[0]?.name ?? null,
  suites,
  incomplete: false,
});

/** A well-configured server: TLS 1.2 + 1.3, ECDHE AEAD, HSTS, stapling, valid certificate. */
function goodResult(): TlsScanResult {
  const certificate = {
    valid: true,
    subject: 'CN=example.com',
    issuer: "CN=R3,O=Let's Encrypt,C=US",
    common_name: 'example.com',
    expires: '2030-01-01T00:00:00.000Z',
    not_before: '2025-01-01T00:00:00.000Z',
    not_after: '2030-01-01T00:00:00.000Z',
    days_until_expiry: 1000,
    expired: false,
    not_yet_valid: false,
    expires_soon: false,
    subject_alt_names: ['DNS:example.com'],
    hostname: 'example.com',
    hostname_matches: true,
    serial_number: '03A1B2C3D4E5F60718293A4B5C6D7E8F',
    serial_bits: 122,
    fingerprint_sha256: 'AA',
    fingerprint_sha1: 'BB',
    signature_algorithm: 'sha256WithRSAEncryption',
    signature_hash: 'sha256',
    key_type: 'EC',
    key_bits: 256,
    key_curve: 'prime256v1',
    trusted: true,
    self_signed: false,
    trust_error: null,
    trust_path: ['CN=example.com', 'CN=R3', 'CN=ISRG Root X1'],
    chain_order_ok: true,
    chain: [],
    sha1_signed: [],
    md5_signed: [],
    weak_keys: [],
    certificate_transparency: true,
    ocsp_urls: ['http://r3.o.lencr.org'],
    crl_urls: [],
    ocsp: {
      stapled: true,
      must_staple: false,
      response_status: 'successful',
      cert_status: 'good' as const,
      this_update: null,
      next_update: null,
      error: null,
    },
    protocol: 'TLSv1.3',
    additional_certificates: [],
  };
  return {
    host: 'example.com',
    port: 443,
    sni: 'example.com',
    checks: { certificate: true, tls_versions: true, cipher_suites: true },
    tls_versions: { ssl_2_0: false, ssl_3_0: false, tls_1_0: false, tls_1_1: false, tls_1_2: true, tls_1_3: true },
    certificate_info: certificate,
    cipher_suites: {
      ssl_2_0: none,
      ssl_3_0: none,
      tls_1_0: none,
      tls_1_1: none,
      tls_1_2: version([suite(0xc02f, { key_exchange: { type: 'ECDH', group: 'x25519', bits: 253 } }), suite(0xc030)]),
      tls_1_3: version([suite(0x1301), suite(0x1302)]),
    },
    key_exchange: {
      tls_1_2_curves: [{ id: 29, name: 'x25519', bits: 128 }],
      tls_1_3_groups: [{ id: 29, name: 'x25519', bits: 128 }],
      min_dh_bits: null,
      min_ecdh_bits: 253,
      incomplete: false,
    },
    security_checks: {
      heartbleed: 'not_vulnerable',
      heartbeat_extension: false,
      ccs_injection: 'not_vulnerable',
      compression: 'not_supported',
      secure_renegotiation: true,
      client_renegotiation: 'refused',
      fallback_scsv: 'supported',
      extended_master_secret: true,
      ocsp_stapling: true,
      hsts: {
        status: 'present',
        header: 'max-age=63072000',
        max_age: 63072000,
        include_subdomains: false,
        preload: false,
        url: 'https://example.com/',
        http_status: 200,
        http_compression: null,
        error: null,
      },
    },
    vulnerabilities: [],
    scan_info: {
      engine: 'secably-tls',
      handshakes: 50,
      max_parallel_connections: 4,
      duration_ms: 900,
      incomplete: false,
      notes: [],
    },
  };
}

const ids = (result: TlsScanResult) => tlsFindings(result).map((f) => f.rule_id);

describe('tlsFindings', () => {
  it('a good configuration has no finding, and the example result fits the schema', () => {
    expect(TlsScanResultSchema.safeParse(goodResult()).success).toBe(true);
    expect(ids(goodResult())).toEqual([]);
  });

  it('every finding is a valid ScannerFinding at host:port, from the secably-tls engine', () => {
    const result = goodResult();
    result.tls_versions = { ...result.tls_versions!, ssl_3_0: true, tls_1_0: true };
    result.cipher_suites!.tls_1_0 = version([suite(0x000a), suite(0x0005), suite(0x0004)]);
    for (const finding of tlsFindings(result)) {
      expect(ScannerFinding.safeParse(finding).success, finding.rule_id).toBe(true);
      expect(finding).toMatchObject({ location: 'example.com:443', engine: 'secably-tls', confidence: 'confirmed' });
    }
    expect(locationOf('2001:db8::1', 8443)).toBe('[2001:db8::1]:8443');
  });

  it('weak suites: one finding per weakness, evidence by protocol', () => {
    const result = goodResult();
    result.tls_versions!.tls_1_0 = true;
    result.cipher_suites!.tls_1_0 = version([
      suite(0x002f, { weaknesses: [...suite(0x002f).weaknesses, 'cbc_tls1_0'] }),
      suite(0x000a),
      suite(0x0005),
    ]);
    result.cipher_suites!.tls_1_2.suites.push(
      suite(0x000a),
      suite(0x0001),
      suite(0x0003),
      suite(0x00a7),
      suite(0x0009),
    );
    const findings = tlsFindings(result);
    const byId = new Map(findings.map((f) => [f.rule_id, f]));
    expect(new Set(findings.map((f) => f.rule_id)).size).toBe(findings.length);
    expect(byId.get('tls.cipher.3des')!.evidence).toBe(
      'TLS 1.0: TLS_RSA_WITH_3DES_EDE_CBC_SHA\nTLS 1.2: TLS_RSA_WITH_3DES_EDE_CBC_SHA',
    );
    for (const rule of [
      'tls.protocol.tls1_0',
      'tls.cipher.rc4',
      'tls.cipher.null',
      'tls.cipher.export',
      'tls.cipher.anonymous',
      'tls.cipher.des',
      'tls.cipher.cbc_tls1_0',
      'tls.cipher.static_key_exchange',
      'tls.cipher.cbc',
    ]) {
      expect(byId.has(rule), rule).toBe(true);
    }
    expect(byId.get('tls.cipher.cbc')!.evidence).toBe(
      'TLS 1.2: TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_DES_CBC_SHA',
    );
    expect(byId.has('tls.cipher.no_forward_secrecy')).toBe(false);
    expect(findings.map((f) => f.risk)).toEqual([...findings.map((f) => f.risk)].sort((a, b) => order(a) - order(b)));
  });

  it('no forward secrecy at all is its own, stronger finding', () => {
    const result = goodResult();
    result.tls_versions = { ...result.tls_versions!, tls_1_3: false };
    result.cipher_suites!.tls_1_3 = none;
    result.cipher_suites!.tls_1_2 = version([suite(0x009c), suite(0x002f)]);
    expect(ids(result)).toEqual(expect.arrayContaining(['tls.cipher.no_forward_secrecy', 'tls.protocol.no_tls1_3']));
    expect(ids(result)).not.toContain('tls.cipher.static_key_exchange');
  });

  it('client order matters only where weaker suites are offered', () => {
    const result = goodResult();
    result.cipher_suites!.tls_1_2.server_preference = false;
    expect(ids(result)).not.toContain('tls.cipher.no_server_preference');
    result.cipher_suites!.tls_1_2.suites.push(suite(0x002f));
    expect(ids(result)).toContain('tls.cipher.no_server_preference');
  });

  it('DH strength sets the risk', () => {
    const result = goodResult();
    result.cipher_suites!.tls_1_2.suites.push(suite(0x009e, { key_exchange: { type: 'DH', group: null, bits: 1024 } }));
    result.key_exchange!.min_dh_bits = 1024;
    expect(tlsFindings(result).find((f) => f.rule_id === 'tls.kex.weak_dh')).toMatchObject({ risk: 'medium' });
    result.key_exchange!.min_dh_bits = 512;
    expect(tlsFindings(result).find((f) => f.rule_id === 'tls.kex.weak_dh')).toMatchObject({ risk: 'high' });
  });

  it('certificate problems, including those of a second certificate', () => {
    const result = goodResult();
    const info = result.certificate_info!;
    Object.assign(info, {
      expired: true,
      hostname_matches: false,
      trusted: false,
      trust_error: 'unknown_issuer',
      valid: false,
    });
    info.ocsp = { ...info.ocsp, stapled: false, must_staple: true };
    info.additional_certificates.push({
      ...info,
      subject: 'CN=rsa.example.com',
      key_type: 'RSA',
      key_bits: 1024,
      weak_keys: ['CN=rsa.example.com'],
      sha1_signed: ['CN=rsa.example.com'],
      chain: [
        {
          ...emptyChainEntry,
          subject: 'CN=rsa.example.com',
          key_type: 'RSA',
          key_bits: 1024,
          signature_algorithm: 'sha1WithRSAEncryption',
        },
      ],
      trust_error: 'self_signed',
      expired: false,
      protocol: 'TLSv1.2',
      used_for: 'RSA suites',
    });
    const byId = new Map(tlsFindings(result).map((f) => [f.rule_id, f]));
    expect([...byId.keys()]).toEqual(
      expect.arrayContaining([
        'tls.cert.expired',
        'tls.cert.hostname_mismatch',
        'tls.cert.untrusted',
        'tls.cert.self_signed',
        'tls.cert.weak_key',
        'tls.cert.sha1_signature',
        'tls.ocsp.must_staple_missing',
      ]),
    );
    info.serial_bits = 16;
    info.ocsp_urls = [];
    expect(ids(result)).toEqual(expect.arrayContaining(['tls.cert.short_serial', 'tls.cert.no_revocation_info']));
    expect(byId.get('tls.cert.weak_key')!.evidence).toBe('CN=rsa.example.com: RSA 1024 bits');
    expect(byId.get('tls.cert.self_signed')!.evidence).toMatch(/RSA suites/);
  });

  it('vulnerabilities and hygiene', () => {
    const result = goodResult();
    Object.assign(result.security_checks, {
      heartbleed: 'vulnerable',
      ccs_injection: 'vulnerable',
      compression: 'supported',
      secure_renegotiation: false,
      client_renegotiation: 'allowed',
      fallback_scsv: 'not_supported',
    });
    result.security_checks.hsts = { ...result.security_checks.hsts, status: 'missing', header: null };
    const byId = new Map(tlsFindings(result).map((f) => [f.rule_id, f]));
    expect(byId.get('tls.heartbleed')).toMatchObject({ risk: 'critical', cvss: { score: 7.5 } });
    expect(byId.get('tls.renegotiation.insecure')).toMatchObject({ risk: 'high' });
    for (const rule of [
      'tls.compression',
      'tls.renegotiation.client_initiated',
      'tls.fallback_scsv.missing',
      'tls.hsts.missing',
    ]) {
      expect(byId.has(rule), rule).toBe(true);
    }
    result.security_checks.hsts = {
      ...result.security_checks.hsts,
      status: 'present',
      max_age: 300,
      header: 'max-age=300',
    };
    expect(ids(result)).toContain('tls.hsts.weak');
  });

  it('parts turned off report nothing', () => {
    const result = goodResult();
    result.tls_versions = null;
    result.cipher_suites = null;
    result.certificate_info = null;
    result.key_exchange = null;
    expect(ids(result)).toEqual([]);
  });

  it('every rule id is unique and namespaced', () => {
    const all = Object.values(TLS_RULES).map((r) => r.id);
    expect(new Set(all).size).toBe(all.length);
    for (const id of all) expect(id).toMatch(/^tls\.[a-z0-9_.]+$/);
  });
});

describe('the size budget of scan_result', () => {
  it('a server accepting every suite in every version still fits, with a note', () => {
    const result = goodResult();
    const every = version(
      LEGACY_OFFER.map((id) => suite(id, { key_exchange: { type: 'ECDH', group: 'secp256r1', bits: 256 } })),
    );
    result.cipher_suites = { ...result.cipher_suites!, ssl_3_0: every, tls_1_0: every, tls_1_1: every, tls_1_2: every };
    expect(JSON.stringify(result).length).toBeGreaterThan(MAX_RESULT_BYTES);
    const fitted = fitResultToBudget(result);
    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(fitted.cipher_suites!.tls_1_2.suites).toHaveLength(LEGACY_OFFER.length);
    expect(fitted.scan_info.notes.at(-1)).toMatch(/trimmed/);
    expect(TlsScanResultSchema.safeParse(fitted).success).toBe(true);
    expect(fitResultToBudget(goodResult())).toEqual(goodResult());
  });
});

describe('parseHsts', () => {
  it('reads max-age, includeSubDomains and preload, case-insensitively', () => {
    expect(parseHsts('max-age=31536000; includeSubDomains; preload')).toEqual({
      max_age: 31536000,
      include_subdomains: true,
      preload: true,
    });
    expect(parseHsts('MAX-AGE="600"')).toEqual({ max_age: 600, include_subdomains: false, preload: false });
  });

  it('refuses headers browsers ignore', () => {
    for (const header of ['includeSubDomains', 'max-age=abc', 'max-age=1; max-age=2', '']) {
      expect(parseHsts(header), header).toBeNull();
    }
  });
});

const order = (risk: string) => ['critical', 'high', 'medium', 'low', 'info'].indexOf(risk);
const emptyChainEntry = {
  subject: '',
  issuer: '',
  serial_number: '',
  not_before: '',
  not_after: '',
  signature_algorithm: '',
  key_type: '',
  key_bits: 0,
  key_curve: null,
  fingerprint_sha256: '',
  is_ca: false,
  self_signed: false,
  trust_anchor: false,
};
