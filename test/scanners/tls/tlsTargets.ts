/**
 * Loopback TLS servers the TLS scanner tests (and bench/tls.bench.ts) scan, the
 * reference tools run on them, and certificates made with the openssl CLI. Every
 * server listens on 127.0.0.1 on a port the system picked; every child process is
 * ours and is stopped by PID.
 *
 * - legacy: `openssl s_server`, TLS 1.0-1.2 at SECLEVEL=0 with every suite OpenSSL 3
 *   has (NULL, anonymous, CBC, static RSA, 1024-bit DHE), an expired self-signed
 *   RSA-1024 certificate signed with SHA-1 for the wrong name.
 * - modern: node:https, TLS 1.2 + 1.3, ECDSA P-256 leaf under a test intermediate and
 *   root (served chain: leaf, intermediate), OCSP stapling, HSTS.
 * - tls13: node:tls, TLS 1.3 only, RSA-2048 self-signed.
 * - gnutls: `gnutls-serv` with 3DES and RC4 on TLS 1.0-1.3.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';
import { child, childrenNamed, descendants, parseXml } from '../../../scanners/shared/xml.js';

const run = promisify(execFile);

export interface TlsTarget {
  readonly name: string;
  readonly port: number;
  /** The name to scan it as (SNI, certificate check). */
  readonly hostname: string;
  close(): Promise<void>;
}

export function has(tool: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(tool, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A working directory for certificates, removed by `cleanup`. */
export function workDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'secably-tls-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The legacy certificate: RSA-1024, SHA-1, self-signed, valid only in January 2020, for wrong.example. */
export function legacyCertificate(dir: string): { cert: string; key: string } {
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = local',
      '[local]',
      'database = index.txt',
      'new_certs_dir = .',
      'serial = serial',
      'policy = anything',
      'default_md = sha1',
      'unique_subject = no',
      'copy_extensions = copy',
      '[anything]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '5EC0\n');
  openssl(
    [
      'req',
      '-new',
      '-newkey',
      'rsa:1024',
      '-nodes',
      '-keyout',
      'legacy.key',
      '-out',
      'legacy.csr',
      '-subj',
      '/CN=wrong.example',
      '-addext',
      'subjectAltName=DNS:wrong.example,DNS:www.wrong.example',
    ],
    dir,
  );
  openssl(
    [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-selfsign',
      '-keyfile',
      'legacy.key',
      '-in',
      'legacy.csr',
      '-out',
      'legacy.pem',
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200201000000Z',
      '-notext',
    ],
    dir,
  );
  return { cert: join(dir, 'legacy.pem'), key: join(dir, 'legacy.key') };
}

export interface ModernPki {
  readonly rootPem: string;
  readonly intermediatePem: string;
  readonly leafPem: string;
  readonly leafKeyPem: string;
  /** A "good" OCSP response for the leaf, signed by the intermediate, valid 7 days. */
  readonly ocspResponse: Buffer;
}

/** Root → intermediate → leaf (localhost, 127.0.0.1), all ECDSA P-256 / SHA-256, and an OCSP response. */
export function modernPki(dir: string): ModernPki {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'root.key',
      '-out',
      'root.pem',
      '-days',
      '3650',
      '-subj',
      '/O=Secably Test/CN=Secably Test Root',
      '-addext',
      'basicConstraints=critical,CA:true',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  openssl(
    [
      'req',
      '-new',
      ...ec,
      '-keyout',
      'inter.key',
      '-out',
      'inter.csr',
      '-subj',
      '/O=Secably Test/CN=Secably Test Intermediate',
    ],
    dir,
  );
  writeFileSync(
    join(dir, 'inter.ext'),
    'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n',
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'inter.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-set_serial',
      '0x1001',
      '-out',
      'inter.pem',
      '-days',
      '3650',
      '-sha256',
      '-extfile',
      'inter.ext',
    ],
    dir,
  );
  openssl(['req', '-new', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(
    join(dir, 'leaf.ext'),
    'basicConstraints=CA:false\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nauthorityInfoAccess=OCSP;URI:http://ocsp.test.invalid/\n',
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'inter.pem',
      '-CAkey',
      'inter.key',
      '-set_serial',
      '0x1234ABCD',
      '-out',
      'leaf.pem',
      '-days',
      '365',
      '-sha256',
      '-extfile',
      'leaf.ext',
    ],
    dir,
  );
  // The OCSP responder's database: the leaf, valid.
  const expiry = new Date(Date.now() + 364 * 86_400_000);
  const yy = (n: number) => String(n).padStart(2, '0');
  const stamp = `${yy(expiry.getUTCFullYear() % 100)}${yy(expiry.getUTCMonth() + 1)}${yy(expiry.getUTCDate())}000000Z`;
  writeFileSync(join(dir, 'ocsp-index.txt'), `V\t${stamp}\t\t1234ABCD\tunknown\t/CN=localhost\n`);
  openssl(['ocsp', '-issuer', 'inter.pem', '-cert', 'leaf.pem', '-reqout', 'ocsp-req.der', '-no_nonce'], dir);
  openssl(
    [
      'ocsp',
      '-index',
      'ocsp-index.txt',
      '-rsigner',
      'inter.pem',
      '-rkey',
      'inter.key',
      '-CA',
      'inter.pem',
      '-reqin',
      'ocsp-req.der',
      '-respout',
      'ocsp-resp.der',
      '-ndays',
      '7',
    ],
    dir,
  );
  return {
    rootPem: readFileSync(join(dir, 'root.pem'), 'utf8'),
    intermediatePem: readFileSync(join(dir, 'inter.pem'), 'utf8'),
    leafPem: readFileSync(join(dir, 'leaf.pem'), 'utf8'),
    leafKeyPem: readFileSync(join(dir, 'leaf.key'), 'utf8'),
    ocspResponse: readFileSync(join(dir, 'ocsp-resp.der')),
  };
}

/** A self-signed RSA certificate for localhost. */
export function rsaCertificate(dir: string, name = 'rsa', bits = 2048): { cert: string; key: string } {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      `rsa:${bits}`,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '90',
      '-sha256',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
    ],
    dir,
  );
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

function stopChild(process: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (process.exitCode !== null || process.signalCode !== null) return resolve();
    const timer = setTimeout(() => process.kill('SIGKILL'), 3_000);
    process.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    process.kill('SIGTERM');
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startLegacyServer(dir: string): Promise<TlsTarget & { certificate: string }> {
  const { cert, key } = legacyCertificate(dir);
  const child = spawn(
    'openssl',
    [
      's_server',
      '-accept',
      '127.0.0.1:0',
      '-cert',
      cert,
      '-key',
      key,
      '-cipher',
      'ALL:COMPLEMENTOFALL:@SECLEVEL=0',
      '-no_tls1_3',
      '-www',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`openssl s_server did not start: ${out}`)), 10_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`openssl s_server exited (${code}): ${out}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return { name: 'legacy', port, hostname: 'localhost', certificate: cert, close: () => stopChild(child) };
}

export async function startGnutlsServer(dir: string): Promise<TlsTarget & { certificate: string }> {
  const { cert, key } = rsaCertificate(dir, 'gnutls');
  const port = await freePort();
  const child = spawn(
    'gnutls-serv',
    [
      '--x509certfile',
      cert,
      '--x509keyfile',
      key,
      '-p',
      String(port),
      '--priority',
      'NORMAL:+3DES-CBC:+ARCFOUR-128:+VERS-TLS1.0:+VERS-TLS1.1:+RSA:+DHE-RSA:+SHA1:+MD5',
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  await waitForPort(port, child);
  return { name: 'gnutls', port, hostname: 'localhost', certificate: cert, close: () => stopChild(child) };
}

function listen(server: import('node:net').Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

function closer(server: import('node:net').Server): () => Promise<void> {
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => {});
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

export async function startModernServer(dir: string): Promise<TlsTarget & { pki: ModernPki }> {
  const pki = modernPki(dir);
  const server = createHttpsServer(
    {
      key: pki.leafKeyPem,
      cert: `${pki.leafPem}${pki.intermediatePem}`,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
    },
    (_req, res) => {
      res.writeHead(200, {
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'content-type': 'text/plain',
      });
      res.end('modern\n');
    },
  );
  server.on(
    'OCSPRequest',
    (_certificate: Buffer, _issuer: Buffer, callback: (error: Error | null, response?: Buffer) => void) =>
      callback(null, pki.ocspResponse),
  );
  const close = closer(server);
  const port = await listen(server);
  return { name: 'modern', port, hostname: 'localhost', pki, close };
}

export async function startTls13OnlyServer(dir: string): Promise<TlsTarget & { certificate: string }> {
  const { cert, key } = rsaCertificate(dir, 'tls13');
  const server = createTlsServer(
    { key: readFileSync(key), cert: readFileSync(cert), minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' },
    (socket) => socket.end('tls13\n'),
  );
  const close = closer(server);
  const port = await listen(server);
  return { name: 'tls13', port, hostname: 'localhost', certificate: cert, close };
}

// ---------------------------------------------------------------------------
// sslscan

export interface SslscanReport {
  /** 'SSLv2', 'SSLv3', 'TLSv1.0' … 'TLSv1.3' → enabled. */
  readonly protocols: Readonly<Record<string, boolean>>;
  /** sslversion → suite ids ("0xC02F"), in sslscan's order. */
  readonly ciphers: ReadonlyMap<string, readonly string[]>;
  /** sslversion → the suite marked preferred. */
  readonly preferred: ReadonlyMap<string, string>;
  readonly groups: ReadonlyMap<string, readonly string[]>;
  readonly heartbleedVulnerable: boolean;
  readonly compression: boolean | null;
  readonly fallbackScsv: boolean | null;
  readonly renegotiation: { supported: boolean; secure: boolean } | null;
  readonly certificate: {
    signatureAlgorithm: string;
    keyType: string;
    keyBits: number;
    subject: string;
    altnames: string;
    issuer: string;
    selfSigned: boolean;
    expired: boolean;
  } | null;
}

/** sslscan's --xml report, read with the shared XML reader. */
export function parseSslscanXml(xml: string): SslscanReport {
  const root = parseXml(xml, { what: 'sslscan XML' });
  const test = descendants(root, 'ssltest')[0];
  if (!test) throw new Error('sslscan XML without <ssltest>');
  const protocols: Record<string, boolean> = {};
  for (const p of childrenNamed(test, 'protocol')) {
    const label = p.attributes.type === 'ssl' ? `SSLv${p.attributes.version}` : `TLSv${p.attributes.version}`;
    protocols[label] = p.attributes.enabled === '1';
  }
  const ciphers = new Map<string, string[]>();
  const preferred = new Map<string, string>();
  for (const c of childrenNamed(test, 'cipher')) {
    const version = c.attributes.sslversion ?? '';
    const id = `0x${(c.attributes.id ?? '').replace(/^0x/i, '').toUpperCase()}`;
    ciphers.set(version, [...(ciphers.get(version) ?? []), id]);
    if (c.attributes.status === 'preferred') preferred.set(version, id);
  }
  const groups = new Map<string, string[]>();
  for (const g of childrenNamed(test, 'group')) {
    const version = g.attributes.sslversion ?? '';
    groups.set(version, [...(groups.get(version) ?? []), g.attributes.name ?? '']);
  }
  const reneg = child(test, 'renegotiation');
  const compression = child(test, 'compression');
  const fallback = child(test, 'fallback');
  const certificate = descendants(test, 'certificate')[0];
  const text = (name: string) => (certificate ? (child(certificate, name)?.text ?? '').trim() : '');
  const pk = certificate ? child(certificate, 'pk') : undefined;
  return {
    protocols,
    ciphers,
    preferred,
    groups,
    heartbleedVulnerable: childrenNamed(test, 'heartbleed').some((h) => h.attributes.vulnerable === '1'),
    compression: compression ? compression.attributes.supported === '1' : null,
    fallbackScsv: fallback ? fallback.attributes.supported === '1' : null,
    renegotiation: reneg
      ? { supported: reneg.attributes.supported === '1', secure: reneg.attributes.secure === '1' }
      : null,
    certificate: certificate
      ? {
          signatureAlgorithm: text('signature-algorithm'),
          keyType: pk?.attributes.type ?? '',
          keyBits: Number(pk?.attributes.bits ?? 0),
          subject: text('subject'),
          altnames: text('altnames'),
          issuer: text('issuer'),
          selfSigned: text('self-signed') === 'true',
          expired: text('expired') === 'true',
        }
      : null,
  };
}

export async function runSslscan(port: number, sni: string): Promise<SslscanReport> {
  const { stdout } = await run('sslscan', ['--xml=-', '--no-colour', `--sni-name=${sni}`, `127.0.0.1:${port}`], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 120_000,
  });
  const start = stdout.indexOf('<?xml');
  return parseSslscanXml(start >= 0 ? stdout.slice(start) : stdout);
}

// ---------------------------------------------------------------------------
// openssl: the served certificate and its facts

/** The certificates the server sends, as PEM (openssl s_client -showcerts). */
export async function servedChain(port: number, sni: string, extra: string[] = []): Promise<string[]> {
  const child = spawn(
    'openssl',
    ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', sni, '-showcerts', ...extra],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  child.stdin!.end('');
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.resume();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return [...out.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)].map((m) => m[0]);
}

export interface OpensslFacts {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sha256: string;
  readonly signatureAlgorithm: string;
  readonly keyType: string;
  readonly keyBits: number;
  readonly subjectAltNames: string[];
}

/** What `openssl x509` says about a PEM certificate. */
export async function opensslFacts(pem: string): Promise<OpensslFacts> {
  const x509 = async (args: string[]) => {
    const child = spawn('openssl', ['x509', '-noout', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.end(pem);
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.resume();
    await new Promise((resolve) => child.once('exit', resolve));
    return out;
  };
  const names = await x509([
    '-subject',
    '-issuer',
    '-serial',
    '-dates',
    '-nameopt',
    'RFC2253',
    '-fingerprint',
    '-sha256',
  ]);
  const text = await x509(['-text']);
  const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(names)?.[1]?.trim() ?? '';
  const sanBlock = /X509v3 Subject Alternative Name:[^\n]*\n\s*([^\n]+)/.exec(text)?.[1]?.trim() ?? '';
  const keyAlgorithm = /Public Key Algorithm: (\S+)/.exec(text)?.[1] ?? '';
  const keyType =
    keyAlgorithm === 'rsaEncryption'
      ? 'RSA'
      : keyAlgorithm === 'id-ecPublicKey'
        ? 'EC'
        : keyAlgorithm === 'ED25519'
          ? 'Ed25519'
          : keyAlgorithm;
  return {
    subject: field('subject'),
    issuer: field('issuer'),
    serial: field('serial'),
    notBefore: field('notBefore'),
    notAfter: field('notAfter'),
    sha256: field('sha256 Fingerprint').replace(/:/g, ''),
    signatureAlgorithm: /Signature Algorithm: (\S+)/.exec(text)?.[1] ?? '',
    keyType,
    keyBits: Number(/Public-Key: \((\d+) bit\)/.exec(text)?.[1] ?? 0),
    subjectAltNames: sanBlock ? sanBlock.split(', ') : [],
  };
}

/** A date as openssl prints it ("Feb  1 00:00:00 2020 GMT") → ISO. */
export function opensslDate(text: string): string {
  return new Date(text).toISOString();
}

export { run };
