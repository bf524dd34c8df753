/**
 * analyzeTlsEndpoint against four real TLS servers this file starts on 127.0.0.1,
 * checked finding by finding against the reference tools run on the same server in
 * the same run: protocols and cipher suites against `sslscan --xml`, certificate
 * facts against `openssl x509` on the certificate `openssl s_client` received.
 * Nothing else is scanned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootStoreOf } from '../../../scanners/tls/certificateAnalysis.js';
import { analyzeTlsEndpoint, speaksTls, type TlsAnalysis } from '../../../scanners/tls/tlsAnalysis.js';
import type { ProtocolKey } from '../../../scanners/tls/tlsResult.js';
import {
  has,
  opensslDate,
  opensslFacts,
  runSslscan,
  servedChain,
  startGnutlsServer,
  startLegacyServer,
  startModernServer,
  startTls13OnlyServer,
  workDir,
  type SslscanReport,
  type TlsTarget,
} from './tlsTargets.js';

const hasOpenssl = has('openssl', ['version']);
const hasSslscan = has('sslscan', ['--version']);
const hasGnutls = has('gnutls-serv', ['--version']);
if (!hasSslscan)
  console.warn('sslscan is not installed: the comparisons with sslscan are skipped (apt-get install sslscan)');
if (!hasGnutls) console.warn('gnutls-serv is not installed: the GnuTLS target is skipped (apt-get install gnutls-bin)');

const SSLSCAN_VERSION: Readonly<Record<ProtocolKey, string>> = {
  ssl_2_0: 'SSLv2',
  ssl_3_0: 'SSLv3',
  tls_1_0: 'TLSv1.0',
  tls_1_1: 'TLSv1.1',
  tls_1_2: 'TLSv1.2',
  tls_1_3: 'TLSv1.3',
};
const PROTOCOLS = Object.keys(SSLSCAN_VERSION) as ProtocolKey[];
/** Groups sslscan 2.0 (OpenSSL 3) tries; we try more (brainpool, sect*, PQ hybrids). */
const SSLSCAN_GROUPS: Readonly<Record<string, string>> = {
  'secp256r1 (NIST P-256)': 'secp256r1',
  'secp384r1 (NIST P-384)': 'secp384r1',
  'secp521r1 (NIST P-521)': 'secp521r1',
  x25519: 'x25519',
  x448: 'x448',
};

const work = workDir();
afterAll(() => work.cleanup());

interface Scanned {
  readonly target: TlsTarget;
  readonly ours: TlsAnalysis;
  readonly sslscan: SslscanReport | null;
  readonly servedLeaf: string | null;
}

async function scan(
  target: TlsTarget,
  options: { roots?: ReturnType<typeof rootStoreOf>; sClientArgs?: string[]; httpPath?: string } = {},
): Promise<Scanned> {
  // One after the other: the machine is small and the tools must not slow each other down.
  const sslscan = hasSslscan ? await runSslscan(target.port, target.hostname) : null;
  const progress: { percent: number; phase: string }[] = [];
  const ours = await analyzeTlsEndpoint({
    address: '127.0.0.1',
    port: target.port,
    hostname: target.hostname,
    signal: new AbortController().signal,
    onProgress: (p) => progress.push(p),
    httpPath: options.httpPath ?? null,
    ...(options.roots ? { roots: options.roots } : {}),
  });
  expect(progress.at(-1)).toEqual({ percent: 100, phase: 'done' });
  for (let i = 1; i < progress.length; i++)
    expect(progress[i]!.percent).toBeGreaterThanOrEqual(progress[i - 1]!.percent);
  const served = hasOpenssl ? await servedChain(target.port, target.hostname, options.sClientArgs ?? []) : [];
  return { target, ours, sslscan, servedLeaf: served[0] ?? null };
}

/** Our protocols and suites equal sslscan's, version by version (and the order where the server imposes one). */
function expectSameAsSslscan({ ours, sslscan }: Scanned) {
  if (!sslscan) return;
  const result = ours.result;
  for (const key of PROTOCOLS) {
    const label = SSLSCAN_VERSION[key];
    expect(result.tls_versions![key], label).toBe(sslscan.protocols[label] ?? false);
    const entry = result.cipher_suites![key];
    const ourIds = entry.suites.map((s) => s.id);
    const theirIds = sslscan.ciphers.get(label) ?? [];
    expect([...ourIds].sort(), `${label} cipher suites`).toEqual([...theirIds].sort());
    if (entry.server_preference === true) {
      expect(ourIds, `${label} server order`).toEqual(theirIds);
      expect(entry.suites[0]?.id).toBe(sslscan.preferred.get(label));
    }
  }
  // Key-exchange groups: every group sslscan finds, we find; TLS 1.3 exactly.
  const ourGroups = {
    'TLSv1.2': result.key_exchange!.tls_1_2_curves.map((g) => g.name),
    'TLSv1.3': result.key_exchange!.tls_1_3_groups.map((g) => g.name),
  };
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const theirs = (sslscan.groups.get(version) ?? []).map((name) => SSLSCAN_GROUPS[name] ?? name);
    for (const group of theirs) expect(ourGroups[version], `${version} group ${group}`).toContain(group);
  }
  // Beyond those, only groups sslscan (OpenSSL 3.0) cannot try, e.g. X25519MLKEM768 of a server on OpenSSL 3.5.
  const sslscanCanTry = new Set([
    ...Object.values(SSLSCAN_GROUPS),
    'ffdhe2048',
    'ffdhe3072',
    'ffdhe4096',
    'ffdhe6144',
    'ffdhe8192',
  ]);
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const theirs = new Set((sslscan.groups.get(version) ?? []).map((name) => SSLSCAN_GROUPS[name] ?? name));
    const extra = ourGroups[version].filter((g) => !theirs.has(g));
    // TLS 1.2 with an ECDSA-only certificate: sslscan offers one curve at a time, so it misses those the certificate's curve must accompany.
    if (version === 'TLSv1.3' || !result.cipher_suites!.tls_1_2.suites.every((s) => s.name.includes('ECDSA'))) {
      expect(
        extra.filter((g) => sslscanCanTry.has(g)),
        `${version} groups sslscan could have seen`,
      ).toEqual([]);
    }
  }
  expect(result.security_checks.heartbleed === 'vulnerable').toBe(sslscan.heartbleedVulnerable);
  if (sslscan.renegotiation?.supported) {
    expect(result.security_checks.secure_renegotiation).toBe(sslscan.renegotiation.secure);
  }
  if (sslscan.certificate && result.certificate_info) {
    expect(result.certificate_info.signature_algorithm).toBe(sslscan.certificate.signatureAlgorithm);
    if (sslscan.certificate.keyType === 'RSA')
      expect(result.certificate_info.key_bits).toBe(sslscan.certificate.keyBits);
    expect(result.certificate_info.self_signed).toBe(sslscan.certificate.selfSigned);
    expect(result.certificate_info.expired).toBe(sslscan.certificate.expired);
  }
}

/** The certificate facts equal `openssl x509` on the certificate the server served. */
async function expectSameAsOpenssl({ ours, servedLeaf }: Scanned) {
  if (!servedLeaf) return;
  const facts = await opensslFacts(servedLeaf);
  const info = ours.result.certificate_info!;
  expect(info.fingerprint_sha256).toBe(facts.sha256);
  expect(info.subject).toBe(facts.subject);
  expect(info.issuer).toBe(facts.issuer);
  expect(info.serial_number).toBe(facts.serial);
  expect(info.not_before).toBe(opensslDate(facts.notBefore));
  expect(info.not_after).toBe(opensslDate(facts.notAfter));
  expect(info.expires).toBe(opensslDate(facts.notAfter));
  expect(info.signature_algorithm).toBe(facts.signatureAlgorithm);
  expect(info.key_type).toBe(facts.keyType);
  expect(info.key_bits).toBe(facts.keyBits);
  expect(info.subject_alt_names).toEqual(facts.subjectAltNames);
}

const rules = (analysis: TlsAnalysis) => analysis.findings.map((f) => f.rule_id);

describe.skipIf(!hasOpenssl)(
  'legacy server (openssl s_server, TLS 1.0-1.2, SECLEVEL=0, expired self-signed RSA-1024 SHA-1)',
  () => {
    let target: Awaited<ReturnType<typeof startLegacyServer>>;
    let scanned: Scanned;
    beforeAll(async () => {
      target = await startLegacyServer(work.dir);
      scanned = await scan(target, { sClientArgs: ['-cipher', 'ALL:@SECLEVEL=0', '-tls1_2'] });
    }, 120_000);
    afterAll(() => target?.close());

    it('finds the protocols and cipher suites sslscan finds', () => {
      expect(scanned.ours.result.tls_versions).toEqual({
        ssl_2_0: false,
        ssl_3_0: false,
        tls_1_0: true,
        tls_1_1: true,
        tls_1_2: true,
        tls_1_3: false,
      });
      expectSameAsSslscan(scanned);
    });

    it('reads the certificate as openssl x509 does', () => expectSameAsOpenssl(scanned));

    it('judges the certificate: expired, self-signed, wrong name, 1024-bit key, SHA-1', () => {
      const info = scanned.ours.result.certificate_info!;
      expect(info).toMatchObject({
        valid: false,
        expired: true,
        self_signed: true,
        trusted: false,
        trust_error: 'self_signed',
        hostname_matches: false,
        key_type: 'RSA',
        key_bits: 1024,
        signature_algorithm: 'sha1WithRSAEncryption',
        issuer: 'CN=wrong.example',
        expires: '2020-02-01T00:00:00.000Z',
        protocol: 'TLSv1.2',
      });
      expect(info.subject_alt_names).toEqual(['DNS:wrong.example', 'DNS:www.wrong.example']);
    });

    it('flags every weakness with a stable rule id', () => {
      const found = rules(scanned.ours);
      for (const rule of [
        'tls.protocol.tls1_0',
        'tls.protocol.tls1_1',
        'tls.protocol.no_tls1_3',
        'tls.cipher.null',
        'tls.cipher.anonymous',
        'tls.cipher.cbc_tls1_0',
        'tls.cipher.static_key_exchange',
        'tls.kex.weak_dh',
        'tls.cert.expired',
        'tls.cert.self_signed',
        'tls.cert.hostname_mismatch',
        'tls.cert.weak_key',
        'tls.cert.sha1_signature',
      ]) {
        expect(found, rule).toContain(rule);
      }
      expect(found).not.toContain('tls.heartbleed');
      expect(found).not.toContain('tls.cipher.rc4'); // OpenSSL 3 has no RC4 to offer
      for (const finding of scanned.ours.findings) {
        expect(finding.engine).toBe('secably-tls');
        expect(finding.location).toBe(`localhost:${target.port}`);
        expect(finding.description.length).toBeGreaterThan(40);
        expect(finding.solution.length).toBeGreaterThan(20);
      }
      const dh = scanned.ours.findings.find((f) => f.rule_id === 'tls.kex.weak_dh')!;
      expect(dh.evidence).toContain('1024 bits');
      expect(scanned.ours.result.vulnerabilities.map((v) => v.id)).toContain('tls.cert.expired');
    });

    it('keeps the result small and free of the address', () => {
      const json = JSON.stringify(scanned.ours.result);
      expect(json.length).toBeLessThan(512 * 1024);
      expect(scanned.ours.result.host).toBe('localhost');
      expect(json).not.toContain('127.0.0.1:');
    });
  },
);

describe.skipIf(!hasOpenssl)(
  'modern server (node:https, TLS 1.2 + 1.3, ECDSA P-256 chain, OCSP stapling, HSTS)',
  () => {
    let target: Awaited<ReturnType<typeof startModernServer>>;
    let scanned: Scanned;
    let untrusted: TlsAnalysis;
    beforeAll(async () => {
      target = await startModernServer(work.dir);
      scanned = await scan(target, { roots: rootStoreOf([target.pki.rootPem]), httpPath: '/' });
      untrusted = await analyzeTlsEndpoint({
        address: '127.0.0.1',
        port: target.port,
        hostname: 'localhost',
        signal: new AbortController().signal,
        checks: { versions: false, cipherSuites: false },
        httpPath: null,
      });
    }, 120_000);
    afterAll(() => target?.close());

    it('finds the protocols, suites (in the server order) and groups sslscan finds', () => {
      expect(scanned.ours.result.tls_versions).toMatchObject({
        tls_1_0: false,
        tls_1_1: false,
        tls_1_2: true,
        tls_1_3: true,
      });
      expect(scanned.ours.result.cipher_suites!.tls_1_2.server_preference).toBe(true);
      expectSameAsSslscan(scanned);
    });

    it('reads the chain as served through TLS 1.3 and its facts as openssl x509 does', async () => {
      await expectSameAsOpenssl(scanned);
      const info = scanned.ours.result.certificate_info!;
      expect(info.protocol).toBe('TLSv1.3');
      expect(info.chain.map((c) => c.subject)).toEqual(['CN=localhost', 'CN=Secably Test Intermediate,O=Secably Test']);
      expect(info).toMatchObject({
        valid: true,
        trusted: true,
        chain_order_ok: true,
        hostname_matches: true,
        key_type: 'EC',
        key_bits: 256,
        key_curve: 'prime256v1',
        signature_algorithm: 'ecdsa-with-SHA256',
        ocsp_urls: ['http://ocsp.test.invalid/'],
      });
      expect(info.trust_path).toEqual([
        'CN=localhost',
        'CN=Secably Test Intermediate,O=Secably Test',
        'CN=Secably Test Root,O=Secably Test',
      ]);
      expect(info.ocsp).toMatchObject({
        stapled: true,
        response_status: 'successful',
        cert_status: 'good',
        error: null,
      });
    });

    it('with the standard root store the chain is untrusted (private root)', () => {
      const info = untrusted.result.certificate_info!;
      expect(info).toMatchObject({ trusted: false, trust_error: 'unknown_issuer', valid: false });
      expect(rules(untrusted)).toContain('tls.cert.untrusted');
      expect(untrusted.result.tls_versions).toBeNull();
      expect(untrusted.result.cipher_suites).toBeNull();
      expect(rules(untrusted).filter((r) => r.startsWith('tls.protocol') || r.startsWith('tls.cipher'))).toEqual([]);
    });

    it('sees HSTS, stapling, forward secrecy: nothing but low findings', () => {
      const checks = scanned.ours.result.security_checks;
      expect(checks).toMatchObject({
        heartbleed: 'not_vulnerable',
        compression: 'not_supported',
        secure_renegotiation: true,
        fallback_scsv: 'supported',
        ocsp_stapling: true,
      });
      expect(checks.hsts).toMatchObject({ status: 'present', max_age: 31536000, include_subdomains: true });
      // Node allows 3 client renegotiations per 10 minutes: rate-limited, no DoS lever, no finding.
      expect(checks.client_renegotiation).toBe('limited');
      const serious = scanned.ours.findings.filter((f) => !['low', 'info'].includes(f.risk));
      expect(serious.map((f) => f.rule_id)).toEqual([]);
      for (const suite of scanned.ours.result.cipher_suites!.tls_1_3.suites) {
        // x25519, or the hybrid X25519MLKEM768 when the server runs on OpenSSL 3.5 (Node 22+) and asks for it.
        expect(suite.key_exchange).toMatchObject({
          type: 'ECDH',
          group: expect.stringMatching(/^(x25519|X25519MLKEM768)$/),
          bits: 253,
        });
      }
    });
  },
);

describe.skipIf(!hasOpenssl)('TLS 1.3-only server (node:tls)', () => {
  let target: Awaited<ReturnType<typeof startTls13OnlyServer>>;
  let scanned: Scanned;
  beforeAll(async () => {
    target = await startTls13OnlyServer(work.dir);
    scanned = await scan(target);
  }, 120_000);
  afterAll(() => target?.close());

  it('finds TLS 1.3 only, with the suites sslscan finds', () => {
    expect(scanned.ours.result.tls_versions).toEqual({
      ssl_2_0: false,
      ssl_3_0: false,
      tls_1_0: false,
      tls_1_1: false,
      tls_1_2: false,
      tls_1_3: true,
    });
    expectSameAsSslscan(scanned);
  });

  it('decrypts the TLS 1.3 flight for the certificate', async () => {
    await expectSameAsOpenssl(scanned);
    expect(scanned.ours.result.certificate_info).toMatchObject({
      protocol: 'TLSv1.3',
      self_signed: true,
      key_bits: 2048,
    });
  });

  it('skips what does not apply to TLS 1.3', () => {
    expect(scanned.ours.result.security_checks).toMatchObject({
      heartbleed: 'not_applicable',
      compression: 'not_applicable',
      secure_renegotiation: null,
      client_renegotiation: 'not_applicable',
      fallback_scsv: 'not_applicable',
    });
    expect(rules(scanned.ours)).not.toContain('tls.renegotiation.insecure');
  });

  it('speaksTls says yes', async () => {
    expect(await speaksTls('127.0.0.1', target.port, 'localhost', new AbortController().signal)).toBe(true);
  });
});

describe.skipIf(!hasOpenssl || !hasGnutls)('gnutls-serv with 3DES and RC4', () => {
  let target: Awaited<ReturnType<typeof startGnutlsServer>>;
  let scanned: Scanned;
  beforeAll(async () => {
    target = await startGnutlsServer(work.dir);
    scanned = await scan(target);
  }, 120_000);
  afterAll(() => target?.close());

  it('finds the protocols and cipher suites sslscan finds (RC4 and 3DES included)', () => {
    expectSameAsSslscan(scanned);
    const tls12 = scanned.ours.result.cipher_suites!.tls_1_2.suites.map((s) => s.name);
    expect(tls12).toContain('TLS_RSA_WITH_RC4_128_SHA');
    expect(tls12).toContain('TLS_RSA_WITH_3DES_EDE_CBC_SHA');
    expect(tls12).toContain('TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA');
  });

  it('reads the certificate as openssl x509 does', () => expectSameAsOpenssl(scanned));

  it('flags RC4, SWEET32 and BEAST with their CVEs', () => {
    const byRule = new Map(scanned.ours.findings.map((f) => [f.rule_id, f]));
    expect(byRule.get('tls.cipher.rc4')).toMatchObject({ risk: 'medium', cve: ['CVE-2013-2566', 'CVE-2015-2808'] });
    expect(byRule.get('tls.cipher.3des')).toMatchObject({ risk: 'low', cwe: [327] });
    expect(byRule.get('tls.cipher.3des')!.evidence).toContain('TLS 1.2: ');
    expect(byRule.get('tls.cipher.cbc_tls1_0')?.cve).toEqual(['CVE-2011-3389']);
    expect(scanned.ours.result.cipher_suites!.tls_1_2.server_preference).toBe(false);
    expect([...byRule.keys()]).toContain('tls.cipher.no_server_preference');
    expect(scanned.ours.result.security_checks.client_renegotiation).toBe('allowed');
    expect([...byRule.keys()]).toContain('tls.renegotiation.client_initiated');
  });
});
