import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  readonly key: string;
  readonly cert: string;
}

/**
 * A self-signed certificate made by the openssl CLI for loopback test servers.
 * `key`: an openssl -newkey spec ('rsa:2048', 'ec -pkeyopt ec_paramgen_curve:P-256' is
 * given as keyAlgorithm 'ec'), `days` may be negative only through `notAfterDays`.
 */
export function selfSignedCertificate(
  options: {
    commonName?: string;
    altNames?: readonly string[];
    keyAlgorithm?: 'rsa' | 'ec';
    rsaBits?: number;
    curve?: string;
    digest?: string;
    days?: number;
  } = {},
): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'secably-cert-'));
  try {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    const newkey =
      options.keyAlgorithm === 'ec'
        ? ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${options.curve ?? 'P-256'}`]
        : ['-newkey', `rsa:${options.rsaBits ?? 2048}`];
    const altNames = options.altNames ?? [options.commonName ?? 'localhost'];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        ...newkey,
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        `-${options.digest ?? 'sha256'}`,
        '-days',
        String(options.days ?? 30),
        '-subj',
        `/CN=${options.commonName ?? 'localhost'}`,
        '-addext',
        `subjectAltName=${altNames.map((n) => (/^[\d.:]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',')}`,
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
