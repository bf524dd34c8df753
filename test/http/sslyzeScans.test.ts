/**
 * The TLS scanner (`sslyze`) end to end through HTTP: POST /sslyze/scan/ → the
 * worker runs the native TLS analysis → completed → GET /sslyze/scan/{id}/ and
 * GET /scans/{id}/. The targets are TLS servers this file starts on 127.0.0.1
 * (SECABLY_ALLOWED_TARGETS=127.0.0.1/8); nothing else is scanned. Written for both
 * modes: in the distributed one the worker is another process, which reaches the
 * same loopback servers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticResolver } from '../../adapters/dnsResolver.js';
import { closedPorts } from '../support/listeners.js';
import { registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';
import { has, startLegacyServer, startModernServer, workDir, type TlsTarget } from '../scanners/tls/tlsTargets.js';

const hasOpenssl = has('openssl', ['version']);
if (!hasOpenssl) console.warn('openssl is not installed: the sslyze end-to-end tests are skipped');

let rt: TestRuntime;
const work = workDir();
let modern: TlsTarget;
let legacy: TlsTarget;

beforeAll(async () => {
  rt = await testRuntime(
    { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8', SECABLY_WORKER_CONCURRENCY: '2' },
    { resolver: staticResolver({ 'loopback.test': ['127.0.0.1'] }) },
  );
  if (hasOpenssl) {
    modern = await startModernServer(work.dir);
    legacy = await startLegacyServer(work.dir);
  }
}, 120_000);

afterAll(async () => {
  await rt?.cleanup();
  await Promise.all([modern?.close(), legacy?.close()]);
  work.cleanup();
});

/** A free-plan user (sslyze costs nothing) with one target. */
async function userWithTarget(targetValue: string) {
  const session = await registerAndLogin(rt);
  const target = await rt.call('POST', '/api/v1/targets/', {
    token: session.access,
    body: { name: 'tls', target_value: targetValue },
  });
  expect(target.status, JSON.stringify(target.body)).toBe(201);
  return { ...session, targetId: target.body.id as string };
}

/** Waits on the read model (polling over HTTP would spend the free plan's requests), then reads through the API. */
async function scanUntilEnded(token: string, scanId: string) {
  const scans = rt.deps.readModels.collection('scans');
  let last: any;
  await waitFor(
    async () => {
      const doc = await scans.get(scanId);
      if (!doc || !['completed', 'failed', 'cancelled'].includes(doc.status as string)) return false;
      last = (await rt.call('GET', `/api/v1/scans/${scanId}/`, { token })).body;
      return true;
    },
    90_000,
    20,
  );
  return last;
}

describe.skipIf(!hasOpenssl)('POST /sslyze/scan/', () => {
  it('an IP target on a given port: completed, with the reference shape and our details', async () => {
    const { access, targetId } = await userWithTarget('127.0.0.1');
    const start = await rt.call('POST', '/api/v1/sslyze/scan/', {
      token: access,
      body: { target_id: targetId, check_certificate: true, check_tls_versions: 'true', port: modern.port },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    expect(start.body).toMatchObject({
      scan_id: expect.any(String),
      credits_used: 0,
      message: 'Scan started successfully',
    });
    const scan = await scanUntilEnded(access, start.body.scan_id);
    expect(scan.status, JSON.stringify(scan.error)).toBe('completed');
    expect(scan.progress).toEqual({ percent: 100, phase: 'done' });

    const result = await rt.call('GET', `/api/v1/sslyze/scan/${start.body.scan_id}/`, { token: access });
    expect(result.status).toBe(200);
    const body = result.body.scan_result;
    expect(body.tls_versions).toEqual({
      ssl_2_0: false,
      ssl_3_0: false,
      tls_1_0: false,
      tls_1_1: false,
      tls_1_2: true,
      tls_1_3: true,
    });
    // The reference's certificate_info fields; the private test root is not a public CA.
    expect(body.certificate_info).toMatchObject({
      valid: false,
      trusted: false,
      issuer: 'CN=Secably Test Intermediate,O=Secably Test',
      expires: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      hostname: '127.0.0.1',
      hostname_matches: true,
      key_type: 'EC',
    });
    expect(body.vulnerabilities).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'tls.cert.untrusted', risk: 'high' })]),
    );
    expect(body.cipher_suites.tls_1_3.suites.length).toBeGreaterThan(0);
    expect(body).toMatchObject({ host: '127.0.0.1', port: modern.port, sni: null });
    expect(body.scan_info).toMatchObject({ engine: 'secably-tls', incomplete: false });

    const names = scan.vulnerabilities_list.map((v: { name: string }) => v.name);
    expect(names).toContain('The certificate chain is not trusted');
    for (const v of scan.vulnerabilities_list) expect(v.location).toBe(`127.0.0.1:${modern.port}`);
    expect(scan.risk_level).toBe('high');
  });

  it('a URL target (hostname) on its port, cipher suites off: the legacy server’s certificate and protocols', async () => {
    const { access, targetId } = await userWithTarget(`https://loopback.test:${legacy.port}/`);
    const start = await rt.call('POST', '/api/v1/scans/create/', {
      token: access,
      body: { target_id: targetId, scanner_type: 'sslyze', scan_config: { check_cipher_suites: 'false' } },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    const scan = await scanUntilEnded(access, start.body.scan_id);
    expect(scan.status, JSON.stringify(scan.error)).toBe('completed');
    const { scan_result: body } = (
      await rt.call('GET', `/api/v1/sslyze/scan/${start.body.scan_id}/`, { token: access })
    ).body;
    expect(body).toMatchObject({ host: 'loopback.test', port: legacy.port, sni: 'loopback.test', cipher_suites: null });
    expect(body.tls_versions).toMatchObject({ tls_1_0: true, tls_1_1: true, tls_1_2: true, tls_1_3: false });
    expect(body.certificate_info).toMatchObject({
      valid: false,
      expired: true,
      self_signed: true,
      hostname_matches: false,
      key_bits: 1024,
      signature_algorithm: 'sha1WithRSAEncryption',
      expires: '2020-02-01T00:00:00.000Z',
    });
    const ids = body.vulnerabilities.map((v: { id: string }) => v.id);
    for (const id of [
      'tls.cert.expired',
      'tls.cert.self_signed',
      'tls.cert.hostname_mismatch',
      'tls.protocol.tls1_0',
    ]) {
      expect(ids, id).toContain(id);
    }
    expect(ids.some((id: string) => id.startsWith('tls.cipher.'))).toBe(false);
    for (const v of scan.vulnerabilities_list) expect(v.location).toBe(`loopback.test:${legacy.port}`);
  });

  it('a closed port: failed with a clear reason, nothing charged', async () => {
    const [port] = await closedPorts(1);
    const { access, targetId } = await userWithTarget('127.0.0.1');
    const start = await rt.call('POST', '/api/v1/sslyze/scan/', { token: access, body: { target_id: targetId, port } });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    const scan = await scanUntilEnded(access, start.body.scan_id);
    expect(scan.status).toBe('failed');
    expect(scan.error).toMatchObject({
      code: 'connection_refused',
      reason: expect.stringMatching(/refused the connection/),
    });
  });

  it('bad scan_config and range targets: 400', async () => {
    const { access, targetId } = await userWithTarget('127.0.0.1');
    for (const body of [
      { target_id: targetId, port: 0 },
      { target_id: targetId, port: 'https' },
      { target_id: targetId, check_certificate: 'maybe' },
      { target_id: targetId, verbose: true },
    ]) {
      const res = await rt.call('POST', '/api/v1/sslyze/scan/', { token: access, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const range = await userWithTarget('127.0.0.0/30');
    const res = await rt.call('POST', '/api/v1/sslyze/scan/', {
      token: range.access,
      body: { target_id: range.targetId },
    });
    expect(res.status).toBe(400);
  });
});
