/**
 * What no installed TLS library still serves — SSLv2, SSLv3, export/NULL/RC4 suites,
 * TLS compression, Heartbleed, no RFC 5746, no TLS_FALLBACK_SCSV — against the
 * scripted server in legacyEmulator.ts on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeTlsEndpoint, speaksTls, type TlsAnalysis } from '../../../scanners/tls/tlsAnalysis.js';
import { startEmulator } from './legacyEmulator.js';
import { has, rsaCertificate, workDir } from './tlsTargets.js';

const work = workDir();
let certificate: Buffer;
const closers: (() => Promise<void>)[] = [];

beforeAll(() => {
  const { cert } = rsaCertificate(work.dir, 'emulator');
  certificate = new X509Certificate(readFileSync(cert)).raw;
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  work.cleanup();
});

async function scanEmulator(config: Omit<Parameters<typeof startEmulator>[0], 'certificate'>): Promise<TlsAnalysis> {
  const emulator = await startEmulator({ ...config, certificate });
  closers.push(emulator.close);
  return analyzeTlsEndpoint({
    address: '127.0.0.1',
    port: emulator.port,
    hostname: 'localhost',
    signal: new AbortController().signal,
    handshakeTimeoutMs: 2_000,
    httpPath: null,
  });
}

const RC4_MD5 = 0x0004;
const RC4_SHA = 0x0005;
const DES_CBC3_SHA = 0x000a;
const EXP_RC4_MD5 = 0x0003;
const NULL_MD5 = 0x0001;
const AES128_SHA = 0x002f;
const SSL_CK_RC4_128_WITH_MD5 = 0x010080;
const SSL_CK_DES_192_EDE3_CBC_WITH_MD5 = 0x0700c0;

describe.skipIf(!has('openssl', ['version']))('an ancient server (SSLv2, SSLv3, TLS 1.0)', () => {
  let analysis: TlsAnalysis;
  beforeAll(async () => {
    analysis = await scanEmulator({
      versions: [0x0300, 0x0301],
      suites: [AES128_SHA, RC4_SHA, DES_CBC3_SHA, RC4_MD5, EXP_RC4_MD5, NULL_MD5],
      sslv2Specs: [SSL_CK_RC4_128_WITH_MD5, SSL_CK_DES_192_EDE3_CBC_WITH_MD5],
      compression: true,
      heartbeat: 'vulnerable',
      secureRenegotiation: false,
      fallbackScsv: false,
      ccsInjection: 'vulnerable',
    });
  }, 60_000);

  it('finds SSLv2, SSLv3 and TLS 1.0 and nothing newer', () => {
    expect(analysis.result.tls_versions).toEqual({
      ssl_2_0: true,
      ssl_3_0: true,
      tls_1_0: true,
      tls_1_1: false,
      tls_1_2: false,
      tls_1_3: false,
    });
  });

  it('lists the suites per version in the server order, and the SSLv2 cipher specs', () => {
    const suites = analysis.result.cipher_suites!;
    const expected = [
      'TLS_RSA_WITH_AES_128_CBC_SHA',
      'TLS_RSA_WITH_RC4_128_SHA',
      'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
      'TLS_RSA_WITH_RC4_128_MD5',
      'TLS_RSA_EXPORT_WITH_RC4_40_MD5',
      'TLS_RSA_WITH_NULL_MD5',
    ];
    for (const version of ['ssl_3_0', 'tls_1_0'] as const) {
      expect(
        suites[version].suites.map((s) => s.name),
        version,
      ).toEqual(expected);
      expect(suites[version].server_preference).toBe(true);
      expect(suites[version].preferred).toBe('TLS_RSA_WITH_AES_128_CBC_SHA');
    }
    expect(suites.ssl_2_0.suites.map((s) => s.name)).toEqual([
      'SSL_CK_RC4_128_WITH_MD5',
      'SSL_CK_DES_192_EDE3_CBC_WITH_MD5',
    ]);
    expect(suites.ssl_2_0.suites.map((s) => s.id)).toEqual(['0x010080', '0x0700C0']);
  });

  it('detects Heartbleed, compression, insecure renegotiation and the missing fallback protection', () => {
    expect(analysis.result.security_checks).toMatchObject({
      heartbleed: 'vulnerable',
      heartbeat_extension: true,
      ccs_injection: 'vulnerable',
      compression: 'supported',
      secure_renegotiation: false,
      fallback_scsv: 'not_supported',
    });
  });

  it('reports each weakness once, most severe first', () => {
    const rules = analysis.findings.map((f) => f.rule_id);
    expect(new Set(rules).size).toBe(rules.length);
    for (const rule of [
      'tls.protocol.ssl2',
      'tls.heartbleed',
      'tls.protocol.ssl3',
      'tls.protocol.no_tls1_2',
      'tls.cipher.null',
      'tls.cipher.export',
      'tls.protocol.tls1_0',
      'tls.cipher.rc4',
      'tls.compression',
      'tls.renegotiation.insecure',
      'tls.cipher.3des',
      'tls.cipher.cbc_tls1_0',
      'tls.cipher.no_forward_secrecy',
      'tls.fallback_scsv.missing',
      'tls.ccs_injection',
    ]) {
      expect(rules, rule).toContain(rule);
    }
    expect(rules.slice(0, 2).sort()).toEqual(['tls.heartbleed', 'tls.protocol.ssl2']);
    const heartbleed = analysis.findings.find((f) => f.rule_id === 'tls.heartbleed')!;
    expect(heartbleed).toMatchObject({ risk: 'critical', cve: ['CVE-2014-0160'], cwe: [126], confidence: 'confirmed' });
    expect(analysis.result.vulnerabilities[0]!.risk).toBe('critical');
  });

  it('gets the certificate from a plain-text handshake', () => {
    expect(analysis.result.certificate_info).toMatchObject({
      protocol: 'TLSv1.0',
      subject: 'CN=localhost',
      key_bits: 2048,
    });
  });
});

describe.skipIf(!has('openssl', ['version']))('heartbeats on, but patched', () => {
  it('answers nothing to the malformed heartbeat: not vulnerable', async () => {
    const analysis = await scanEmulator({
      versions: [0x0301, 0x0302, 0x0303],
      suites: [AES128_SHA],
      heartbeat: 'patched',
      secureRenegotiation: true,
      fallbackScsv: true,
    });
    expect(analysis.result.security_checks).toMatchObject({
      heartbleed: 'not_vulnerable',
      heartbeat_extension: true,
      ccs_injection: 'not_vulnerable',
      compression: 'not_supported',
      secure_renegotiation: true,
      fallback_scsv: 'supported',
    });
    expect(analysis.result.cipher_suites!.tls_1_2.suites.map((s) => s.name)).toEqual(['TLS_RSA_WITH_AES_128_CBC_SHA']);
    expect(analysis.findings.map((f) => f.rule_id)).toContain('tls.cipher.no_forward_secrecy');
  });
});

describe.skipIf(!has('openssl', ['version']))('SSLv2 only', () => {
  it('is seen as TLS, scanned, and its certificate read from the SERVER-HELLO', async () => {
    const emulator = await startEmulator({
      versions: [],
      suites: [],
      sslv2Specs: [SSL_CK_RC4_128_WITH_MD5],
      certificate,
    });
    closers.push(emulator.close);
    expect(await speaksTls('127.0.0.1', emulator.port, 'localhost', new AbortController().signal)).toBe(true);
    const analysis = await analyzeTlsEndpoint({
      address: '127.0.0.1',
      port: emulator.port,
      hostname: 'localhost',
      signal: new AbortController().signal,
      handshakeTimeoutMs: 2_000,
      httpPath: null,
    });
    expect(analysis.result.tls_versions).toMatchObject({
      ssl_2_0: true,
      ssl_3_0: false,
      tls_1_0: false,
      tls_1_2: false,
    });
    expect(analysis.result.certificate_info).toMatchObject({ protocol: 'SSLv2', subject: 'CN=localhost' });
    expect(analysis.findings[0]).toMatchObject({ rule_id: 'tls.protocol.ssl2', risk: 'critical' });
  });
});

// Sanity of the emulator's certificate tool, so a skip is visible rather than silent.
it('openssl makes the emulator certificate', () => {
  if (!has('openssl', ['version'])) return;
  expect(execFileSync('openssl', ['version']).toString()).toMatch(/OpenSSL/);
});
