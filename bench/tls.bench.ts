/**
 * TLS scanner benchmark: our analysis (analyzeTlsEndpoint, in process — what a worker
 * runs) vs `sslscan` vs `testssl` (Debian's testssl.sh) on the same four loopback
 * targets of the TLS tests, one run each, one tool at a time:
 *
 *   npx tsx bench/tls.bench.ts [--targets=legacy,modern,tls13,gnutls] [--testssl=on|off]
 *                              [--testssl-minutes=40] [--json=FILE] [--markdown=FILE]
 *
 * For each target it prints the wall time of each tool (spawn → exit for the CLIs),
 * the ratios (ours ÷ sslscan: goal ≤ 1.5; testssl ÷ ours: goal ≥ 20), whether the
 * protocols and cipher suites agree (testssl's default run lists suites for all
 * protocols together, so those are compared as one set), and every problem any of
 * the three reported, with who found it: ✓ found, · checked and not found, n/a not
 * checked by that tool. Problems are matched through a shared vocabulary (below);
 * sslscan's and testssl's own words are mapped onto it from their XML / JSON.
 *
 * Targets (test/scanners/tls/tlsTargets.ts): legacy = openssl s_server TLS 1.0-1.2,
 * SECLEVEL=0, expired self-signed RSA-1024 SHA-1 for the wrong name; modern =
 * node:https TLS 1.2+1.3, ECDSA chain, OCSP stapling, HSTS; tls13 = node:tls TLS 1.3
 * only; gnutls = gnutls-serv with 3DES and RC4. All three tools connect to
 * 127.0.0.1 and use the name "localhost" (SNI, certificate name). Nothing else is
 * scanned. Child processes are ours and are stopped by pid.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { suiteById } from '../scanners/tls/cipherSuites.js';
import { analyzeTlsEndpoint, type TlsAnalysis } from '../scanners/tls/tlsAnalysis.js';
import {
  parseSslscanXml,
  startGnutlsServer,
  startLegacyServer,
  startModernServer,
  startTls13OnlyServer,
  workDir,
  type SslscanReport,
  type TlsTarget,
} from '../test/scanners/tls/tlsTargets.js';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, v ?? 'true'] as const;
  }),
);
const TARGETS = (args.get('targets') ?? 'legacy,modern,tls13,gnutls').split(',');
const RUN_TESTSSL = (args.get('testssl') ?? 'on') !== 'off';
const TESTSSL_MINUTES = Number(args.get('testssl-minutes') ?? 40);

/** The shared vocabulary: a problem, and which tools look for it at all. */
const PROBLEMS = {
  'protocol: SSLv2': ['ours', 'sslscan', 'testssl'],
  'protocol: SSLv3': ['ours', 'sslscan', 'testssl'],
  'protocol: TLS 1.0': ['ours', 'sslscan', 'testssl'],
  'protocol: TLS 1.1': ['ours', 'sslscan', 'testssl'],
  'protocol: TLS 1.3 not offered': ['ours', 'sslscan', 'testssl'],
  'cipher: NULL': ['ours', 'sslscan', 'testssl'],
  'cipher: anonymous': ['ours', 'sslscan', 'testssl'],
  'cipher: export': ['ours', 'sslscan', 'testssl'],
  'cipher: LOW (DES, RC2, RC4)': ['ours', 'sslscan', 'testssl'],
  'cipher: RC4': ['ours', 'sslscan', 'testssl'],
  'cipher: 3DES/IDEA (SWEET32)': ['ours', 'sslscan', 'testssl'],
  'cipher: CBC under TLS 1.0 (BEAST)': ['ours', 'sslscan', 'testssl'],
  'cipher: CBC (obsolete, Lucky13)': ['ours', 'sslscan', 'testssl'],
  'cipher: static key exchange accepted': ['ours', 'sslscan'],
  'cipher: no forward secrecy at all': ['ours', 'sslscan', 'testssl'],
  'cipher: no server cipher order': ['ours', 'testssl'],
  'kex: DH group < 2048 bits': ['ours', 'sslscan', 'testssl'],
  'cert: expired': ['ours', 'sslscan', 'testssl'],
  'cert: expires within 30 days': ['ours', 'testssl'],
  'cert: self-signed': ['ours', 'sslscan', 'testssl'],
  'cert: chain not trusted': ['ours', 'testssl'],
  'cert: name mismatch': ['ours', 'testssl'],
  'cert: key < 2048 bits': ['ours', 'sslscan', 'testssl'],
  'cert: SHA-1 signature': ['ours', 'sslscan', 'testssl'],
  'cert: serial < 64 bits': ['ours', 'testssl'],
  'cert: no OCSP/CRL URL': ['ours', 'testssl'],
  'OCSP stapling not offered': ['ours', 'testssl'],
  Heartbleed: ['ours', 'sslscan', 'testssl'],
  'CCS injection': ['ours', 'testssl'],
  'compression (CRIME)': ['ours', 'sslscan', 'testssl'],
  'insecure renegotiation (no RFC 5746)': ['ours', 'sslscan', 'testssl'],
  // sslscan's "session renegotiation supported" is not a tried renegotiation (it says so where
  // openssl s_client's "R" is refused), so it is not counted here.
  'client-initiated renegotiation': ['ours', 'testssl'],
  'no TLS_FALLBACK_SCSV': ['ours', 'sslscan', 'testssl'],
  'HSTS missing or weak': ['ours', 'testssl'],
  ROBOT: ['testssl'],
  Ticketbleed: ['testssl'],
  'BREACH (HTTP compression)': ['ours', 'testssl'],
} as const satisfies Record<string, readonly ('ours' | 'sslscan' | 'testssl')[]>;
type Problem = keyof typeof PROBLEMS;
type Tool = 'ours' | 'sslscan' | 'testssl';

const OUR_RULES: Readonly<Record<string, Problem>> = {
  'tls.protocol.ssl2': 'protocol: SSLv2',
  'tls.protocol.ssl3': 'protocol: SSLv3',
  'tls.protocol.tls1_0': 'protocol: TLS 1.0',
  'tls.protocol.tls1_1': 'protocol: TLS 1.1',
  'tls.protocol.no_tls1_3': 'protocol: TLS 1.3 not offered',
  'tls.cipher.null': 'cipher: NULL',
  'tls.cipher.anonymous': 'cipher: anonymous',
  'tls.cipher.export': 'cipher: export',
  'tls.cipher.rc4': 'cipher: RC4',
  'tls.cipher.3des': 'cipher: 3DES/IDEA (SWEET32)',
  'tls.cipher.cbc_tls1_0': 'cipher: CBC under TLS 1.0 (BEAST)',
  'tls.cipher.cbc': 'cipher: CBC (obsolete, Lucky13)',
  'tls.cipher.static_key_exchange': 'cipher: static key exchange accepted',
  'tls.cipher.no_forward_secrecy': 'cipher: no forward secrecy at all',
  'tls.cipher.no_server_preference': 'cipher: no server cipher order',
  'tls.kex.weak_dh': 'kex: DH group < 2048 bits',
  'tls.cert.expired': 'cert: expired',
  'tls.cert.expiring_soon': 'cert: expires within 30 days',
  'tls.cert.self_signed': 'cert: self-signed',
  'tls.cert.untrusted': 'cert: chain not trusted',
  'tls.cert.hostname_mismatch': 'cert: name mismatch',
  'tls.cert.weak_key': 'cert: key < 2048 bits',
  'tls.cert.sha1_signature': 'cert: SHA-1 signature',
  'tls.cert.short_serial': 'cert: serial < 64 bits',
  'tls.cert.no_revocation_info': 'cert: no OCSP/CRL URL',
  'tls.ocsp.stapling_missing': 'OCSP stapling not offered',
  'tls.heartbleed': 'Heartbleed',
  'tls.ccs_injection': 'CCS injection',
  'tls.compression': 'compression (CRIME)',
  'tls.renegotiation.insecure': 'insecure renegotiation (no RFC 5746)',
  'tls.renegotiation.client_initiated': 'client-initiated renegotiation',
  'tls.fallback_scsv.missing': 'no TLS_FALLBACK_SCSV',
  'tls.hsts.missing': 'HSTS missing or weak',
  'tls.hsts.weak': 'HSTS missing or weak',
  'tls.http_compression': 'BREACH (HTTP compression)',
};

function ourProblems(analysis: TlsAnalysis): Set<Problem> {
  const found = new Set<Problem>();
  for (const f of analysis.findings) {
    const problem = OUR_RULES[f.rule_id];
    if (problem) found.add(problem);
    if (f.rule_id === 'tls.cipher.cbc_tls1_0') found.add('cipher: CBC (obsolete, Lucky13)');
    if (f.rule_id === 'tls.cipher.rc4' || f.rule_id === 'tls.cipher.des') found.add('cipher: LOW (DES, RC2, RC4)');
    if (f.rule_id === 'tls.cipher.no_forward_secrecy') found.add('cipher: static key exchange accepted');
  }
  return found;
}

// ---------------------------------------------------------------------------
// sslscan

function sslscanProblems(report: SslscanReport, text: string): Set<Problem> {
  const found = new Set<Problem>();
  const on = (label: string) => report.protocols[label] === true;
  if (on('SSLv2')) found.add('protocol: SSLv2');
  if (on('SSLv3')) found.add('protocol: SSLv3');
  if (on('TLSv1.0')) found.add('protocol: TLS 1.0');
  if (on('TLSv1.1')) found.add('protocol: TLS 1.1');
  if (!on('TLSv1.3')) found.add('protocol: TLS 1.3 not offered');
  let anyFs = false;
  let anyAuthenticated = false;
  for (const [version, ids] of report.ciphers) {
    for (const id of ids) {
      const suite = suiteById(Number.parseInt(id, 16));
      const w = suite.weaknesses;
      if (w.includes('null')) found.add('cipher: NULL');
      if (w.includes('anonymous')) found.add('cipher: anonymous');
      if (w.includes('export')) found.add('cipher: export');
      if (w.includes('rc4')) found.add('cipher: RC4');
      if (w.includes('rc4') || w.includes('des')) found.add('cipher: LOW (DES, RC2, RC4)');
      if (w.includes('64bit_block')) found.add('cipher: 3DES/IDEA (SWEET32)');
      if (suite.cbc && version === 'TLSv1.0') found.add('cipher: CBC under TLS 1.0 (BEAST)');
      if (suite.cbc) found.add('cipher: CBC (obsolete, Lucky13)');
      if (!w.includes('anonymous') && !w.includes('null')) {
        anyAuthenticated = true;
        if (suite.forwardSecrecy) anyFs = true;
        else found.add('cipher: static key exchange accepted');
      }
    }
  }
  if (anyAuthenticated && !anyFs) found.add('cipher: no forward secrecy at all');
  if ([...text.matchAll(/DHE (\d+) bits/g)].some((m) => Number(m[1]) < 2048)) found.add('kex: DH group < 2048 bits');
  const cert = report.certificate;
  if (cert?.expired) found.add('cert: expired');
  if (cert?.selfSigned) found.add('cert: self-signed');
  if (cert && cert.keyType === 'RSA' && cert.keyBits < 2048) found.add('cert: key < 2048 bits');
  if (cert && /sha1/i.test(cert.signatureAlgorithm)) found.add('cert: SHA-1 signature');
  if (report.heartbleedVulnerable) found.add('Heartbleed');
  if (/Compression enabled/i.test(text)) found.add('compression (CRIME)');
  if (report.renegotiation?.supported && !report.renegotiation.secure)
    found.add('insecure renegotiation (no RFC 5746)');
  if (/does not support TLS Fallback SCSV/i.test(text)) found.add('no TLS_FALLBACK_SCSV');
  return found;
}

// ---------------------------------------------------------------------------
// testssl

interface TestsslEntry {
  id: string;
  severity: string;
  finding: string;
}

const BAD = new Set(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);

function testsslProblems(entries: readonly TestsslEntry[]): Set<Problem> {
  const found = new Set<Problem>();
  const by = new Map(entries.map((e) => [e.id, e]));
  const bad = (id: string) => {
    const e = by.get(id);
    return e !== undefined && BAD.has(e.severity);
  };
  const offered = (id: string) => /^offered/.test(by.get(id)?.finding ?? '');
  if (offered('SSLv2')) found.add('protocol: SSLv2');
  if (offered('SSLv3')) found.add('protocol: SSLv3');
  if (offered('TLS1')) found.add('protocol: TLS 1.0');
  if (offered('TLS1_1')) found.add('protocol: TLS 1.1');
  if (/not offered/.test(by.get('TLS1_3')?.finding ?? '')) found.add('protocol: TLS 1.3 not offered');
  if (offered('cipherlist_NULL')) found.add('cipher: NULL');
  if (offered('cipherlist_aNULL')) found.add('cipher: anonymous');
  if (offered('cipherlist_EXPORT') || bad('FREAK')) found.add('cipher: export');
  if (offered('cipherlist_LOW')) found.add('cipher: LOW (DES, RC2, RC4)');
  if (bad('RC4')) found.add('cipher: RC4');
  if (offered('cipherlist_3DES_IDEA') || bad('SWEET32')) found.add('cipher: 3DES/IDEA (SWEET32)');
  if (bad('BEAST') || bad('BEAST_CBC_TLS1')) found.add('cipher: CBC under TLS 1.0 (BEAST)');
  if (offered('cipherlist_AVERAGE') || bad('LUCKY13')) found.add('cipher: CBC (obsolete, Lucky13)');
  if (/not offered/.test(by.get('PFS')?.finding ?? by.get('FS')?.finding ?? ''))
    found.add('cipher: no forward secrecy at all');
  if (bad('cipher_order')) found.add('cipher: no server cipher order');
  if (bad('DH_groups') || bad('LOGJAM-common_primes') || bad('LOGJAM')) found.add('kex: DH group < 2048 bits');
  const expiration = by.get('cert_expirationStatus');
  if (expiration && /expired/.test(expiration.finding)) found.add('cert: expired');
  if (expiration && /expires < 30 days|expires in/.test(expiration.finding)) found.add('cert: expires within 30 days');
  const trust = by.get('cert_chain_of_trust');
  if (trust && BAD.has(trust.severity))
    found.add(/self signed/.test(trust.finding) ? 'cert: self-signed' : 'cert: chain not trusted');
  if (bad('cert_trust')) found.add('cert: name mismatch');
  if (bad('cert_keySize')) found.add('cert: key < 2048 bits');
  if (bad('cert_signatureAlgorithm') && /SHA1/i.test(by.get('cert_signatureAlgorithm')!.finding))
    found.add('cert: SHA-1 signature');
  if (bad('cert_serialNumberLen')) found.add('cert: serial < 64 bits');
  if (bad('cert_revocation')) found.add('cert: no OCSP/CRL URL');
  if (/not offered/.test(by.get('OCSP_stapling')?.finding ?? '')) found.add('OCSP stapling not offered');
  if (bad('heartbleed')) found.add('Heartbleed');
  if (bad('CCS')) found.add('CCS injection');
  if (bad('CRIME_TLS')) found.add('compression (CRIME)');
  if (bad('secure_renego')) found.add('insecure renegotiation (no RFC 5746)');
  if (bad('secure_client_renego')) found.add('client-initiated renegotiation');
  if (bad('fallback_SCSV')) found.add('no TLS_FALLBACK_SCSV');
  if (bad('HSTS') || bad('HSTS_time')) found.add('HSTS missing or weak');
  if (bad('ROBOT')) found.add('ROBOT');
  if (bad('ticketbleed')) found.add('Ticketbleed');
  if (bad('BREACH')) found.add('BREACH (HTTP compression)');
  return found;
}

function testsslSuites(entries: readonly TestsslEntry[]): Set<string> {
  const ids = new Set<string>();
  for (const e of entries) {
    const match = /^cipher_x([0-9a-f]{1,4})$/i.exec(e.id);
    if (match) ids.add(`0x${match[1]!.toUpperCase().padStart(4, '0')}`);
  }
  return ids;
}

// ---------------------------------------------------------------------------

interface Run<T> {
  readonly ms: number;
  readonly value: T;
}

async function timed<T>(work: () => Promise<T>): Promise<Run<T>> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

function runCli(command: string, argv: string[], timeoutMs: number): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ stdout, code });
    });
  });
}

const starters: Record<string, (dir: string) => Promise<TlsTarget>> = {
  legacy: startLegacyServer,
  modern: startModernServer,
  tls13: startTls13OnlyServer,
  gnutls: startGnutlsServer,
};

interface TargetReport {
  name: string;
  ms: Record<Tool, number | null>;
  problems: Record<Tool, Problem[]>;
  protocols: { ours: string[]; sslscan: string[]; testssl: string[] };
  suites: {
    ours: number;
    sslscan: number;
    testssl: number | null;
    oursNotSslscan: string[];
    sslscanNotOurs: string[];
    testsslNotOurs: string[];
    oursNotTestssl: string[];
  };
  handshakes: number;
}

async function benchTarget(name: string, dir: string): Promise<TargetReport> {
  const target = await starters[name]!(dir);
  const tmp = mkdtempSync(join(tmpdir(), 'secably-tls-bench-'));
  try {
    console.error(`[${name}] port ${target.port}: ours…`);
    const ours = await timed(() =>
      analyzeTlsEndpoint({
        address: '127.0.0.1',
        port: target.port,
        hostname: 'localhost',
        signal: new AbortController().signal,
        httpPath: '/',
      }),
    );
    console.error(`[${name}] ours ${Math.round(ours.ms)} ms; sslscan…`);
    const xmlFile = join(tmp, 'sslscan.xml');
    const sslscan = await timed(() =>
      runCli(
        'sslscan',
        [`--xml=${xmlFile}`, '--no-colour', '--sni-name=localhost', `127.0.0.1:${target.port}`],
        300_000,
      ),
    );
    const sslscanReport = parseSslscanXml(readFileSync(xmlFile, 'utf8'));
    console.error(`[${name}] sslscan ${Math.round(sslscan.ms)} ms${RUN_TESTSSL ? '; testssl… (minutes)' : ''}`);
    let testssl: Run<TestsslEntry[]> | null = null;
    if (RUN_TESTSSL) {
      const jsonFile = join(tmp, 'testssl.json');
      testssl = await timed(async () => {
        await runCli(
          'testssl',
          [
            '--jsonfile',
            jsonFile,
            '--warnings',
            'off',
            '--quiet',
            '--color',
            '0',
            '--ip',
            '127.0.0.1',
            `localhost:${target.port}`,
          ],
          TESTSSL_MINUTES * 60_000,
        );
        return JSON.parse(readFileSync(jsonFile, 'utf8')) as TestsslEntry[];
      });
      console.error(`[${name}] testssl ${Math.round(testssl.ms / 1000)} s`);
    }
    const result = ours.value.result;
    const ourIds = new Set(
      Object.entries(result.cipher_suites!)
        .filter(([version]) => version !== 'ssl_2_0')
        .flatMap(([, v]) => v.suites.map((s) => s.id)),
    );
    const sslscanIds = new Set([...sslscanReport.ciphers.values()].flat());
    const testsslIds = testssl ? testsslSuites(testssl.value) : null;
    const diff = (a: Set<string>, b: Set<string>) =>
      [...a].filter((x) => !b.has(x)).map((id) => suiteById(Number.parseInt(id, 16)).name);
    const labels: Record<string, string> = {
      ssl_2_0: 'SSLv2',
      ssl_3_0: 'SSLv3',
      tls_1_0: 'TLSv1.0',
      tls_1_1: 'TLSv1.1',
      tls_1_2: 'TLSv1.2',
      tls_1_3: 'TLSv1.3',
    };
    const testsslProtocols = testssl
      ? [
          ['SSLv2', 'SSLv2'],
          ['SSLv3', 'SSLv3'],
          ['TLS1', 'TLSv1.0'],
          ['TLS1_1', 'TLSv1.1'],
          ['TLS1_2', 'TLSv1.2'],
          ['TLS1_3', 'TLSv1.3'],
        ]
          .filter(([id]) => /^offered/.test(testssl!.value.find((e) => e.id === id)?.finding ?? ''))
          .map(([, label]) => label!)
      : [];
    return {
      name,
      ms: { ours: ours.ms, sslscan: sslscan.ms, testssl: testssl?.ms ?? null },
      problems: {
        ours: [...ourProblems(ours.value)],
        sslscan: [...sslscanProblems(sslscanReport, sslscan.value.stdout)],
        testssl: testssl ? [...testsslProblems(testssl.value)] : [],
      },
      protocols: {
        ours: Object.entries(result.tls_versions!)
          .filter(([, on]) => on)
          .map(([k]) => labels[k]!),
        sslscan: Object.entries(sslscanReport.protocols)
          .filter(([, on]) => on)
          .map(([k]) => k),
        testssl: testsslProtocols,
      },
      suites: {
        ours: ourIds.size,
        sslscan: sslscanIds.size,
        testssl: testsslIds?.size ?? null,
        oursNotSslscan: diff(ourIds, sslscanIds),
        sslscanNotOurs: diff(sslscanIds, ourIds),
        testsslNotOurs: testsslIds ? diff(testsslIds, ourIds) : [],
        oursNotTestssl: testsslIds ? diff(ourIds, testsslIds) : [],
      },
      handshakes: result.scan_info.handshakes,
    };
  } finally {
    await target.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function markdown(reports: readonly TargetReport[]): string {
  const lines: string[] = [];
  const s = (ms: number | null) =>
    ms === null ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(2)} s`;
  lines.push('| target | ours | sslscan | testssl | ours ÷ sslscan (≤ 1.5) | testssl ÷ ours (≥ 20) | our handshakes |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const r of reports) {
    lines.push(
      `| ${r.name} | ${s(r.ms.ours)} | ${s(r.ms.sslscan)} | ${s(r.ms.testssl)} | ${(r.ms.ours! / r.ms.sslscan!).toFixed(2)}× | ${r.ms.testssl === null ? '—' : `${(r.ms.testssl / r.ms.ours!).toFixed(0)}×`} | ${r.handshakes} |`,
    );
  }
  const total = (tool: Tool) => reports.reduce((sum, r) => sum + (r.ms[tool] ?? 0), 0);
  lines.push(
    `| **all four** | ${s(total('ours'))} | ${s(total('sslscan'))} | ${s(total('testssl') || null)} | ${(total('ours') / total('sslscan')).toFixed(2)}× | ${total('testssl') ? `${(total('testssl') / total('ours')).toFixed(0)}×` : '—'} | |`,
  );
  lines.push('');
  lines.push(
    '| target | protocols (ours / sslscan / testssl) | suites ours / sslscan / testssl | suites only ours vs sslscan, only sslscan | only testssl |',
  );
  lines.push('|---|---|---|---|---|');
  for (const r of reports) {
    const same = (a: string[], b: string[]) => [...a].sort().join() === [...b].sort().join();
    lines.push(
      `| ${r.name} | ${r.protocols.ours.join(' ')} ${same(r.protocols.ours, r.protocols.sslscan) ? '=' : '≠'} sslscan ${same(r.protocols.ours, r.protocols.testssl) ? '=' : '≠'} testssl | ${r.suites.ours} / ${r.suites.sslscan} / ${r.suites.testssl ?? '—'} | ${r.suites.oursNotSslscan.join(', ') || '—'}; ${r.suites.sslscanNotOurs.join(', ') || '—'} | ${r.suites.testsslNotOurs.join(', ') || '—'} |`,
    );
  }
  lines.push('');
  for (const r of reports) {
    lines.push(`**${r.name}** — problems reported (✓ found, · checked, not found, n/a not checked by that tool):`);
    lines.push('');
    lines.push('| problem | ours | sslscan | testssl |');
    lines.push('|---|---|---|---|');
    const all = new Set<Problem>([...r.problems.ours, ...r.problems.sslscan, ...r.problems.testssl]);
    for (const problem of Object.keys(PROBLEMS) as Problem[]) {
      if (!all.has(problem)) continue;
      const cell = (tool: Tool) =>
        !(PROBLEMS[problem] as readonly Tool[]).includes(tool) || (tool === 'testssl' && r.ms.testssl === null)
          ? 'n/a'
          : r.problems[tool].includes(problem)
            ? '✓'
            : '·';
      lines.push(`| ${problem} | ${cell('ours')} | ${cell('sslscan')} | ${cell('testssl')} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main() {
  const work = workDir();
  const reports: TargetReport[] = [];
  try {
    for (const name of TARGETS) reports.push(await benchTarget(name, work.dir));
  } finally {
    work.cleanup();
  }
  const text = markdown(reports);
  console.log(text);
  if (args.get('json')) writeFileSync(args.get('json')!, `${JSON.stringify(reports, null, 2)}\n`);
  if (args.get('markdown')) writeFileSync(args.get('markdown')!, `${text}\n`);
}

await main();
