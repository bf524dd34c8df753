/**
 * Stand-ins for our TLS, web and template engines (their real implementations live in
 * other branches until integration). They behave like engines should: they look only
 * at the address they are given (a real TLS handshake for `speaksTls`), report findings
 * in the shared shape with their own `engine` name and a location at the target's name,
 * honour the signal, and record every call so tests can check what they were asked.
 *
 * What they "find" is fixed per endpoint kind, as the real engines would on the
 * insecure services of vulnServices.ts: TLS 1.0 and a 1024-bit DH group on the legacy
 * TLS service; missing security headers and a session cookie without HttpOnly on the
 * web app; an exposed .git/config for the templates.
 */
import { connect } from 'node:tls';
import type { ScannerFinding } from '../../../../domain/shared/finding.js';
import { ScanAbortedError } from '../../../../scanners/shared/errors.js';
import type {
  EngineOutput,
  TemplateScanInput,
  TlsEndpointInput,
  VulnEngines,
  WebAppScanInput,
  WebOrigin,
} from '../../../../scanners/vuln/engines.js';

export interface EngineCall {
  readonly engine: 'speaksTls' | 'tls' | 'web' | 'templates';
  readonly address: string;
  readonly hostname: string;
  readonly port: number;
  readonly mode?: string;
  readonly scheme?: string;
  readonly budgetMs?: number;
  readonly signal: AbortSignal;
}

export interface FakeEngines extends VulnEngines {
  readonly calls: EngineCall[];
}

export interface FakeEngineOptions {
  /** Makes one engine wait until its signal aborts (`'honour'`) or forever (`'ignore'`). */
  readonly hang?: { readonly engine: 'tls' | 'web' | 'templates'; readonly signal: 'honour' | 'ignore' };
  /** Called when an engine starts working (tests wait for it). */
  readonly onStart?: (call: EngineCall) => void;
}

const originLabel = (origin: WebOrigin) => `${origin.scheme}://${origin.hostname}:${origin.port}`;

function waitForAbort(signal: AbortSignal, mode: 'honour' | 'ignore'): Promise<never> {
  return new Promise((_, reject) => {
    if (mode === 'ignore') return; // a misbehaving engine: never settles
    const abort = () => reject(new ScanAbortedError('engine stopped'));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

function realHandshake(address: string, port: number, hostname: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({
      host: address,
      port,
      servername: /^[\d.:]+$/.test(hostname) ? undefined : hostname,
      rejectUnauthorized: false,
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    const done = (result: boolean) => {
      socket.destroy();
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = () => done(false);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(3_000, () => done(false));
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function fakeEngines(options: FakeEngineOptions = {}): FakeEngines {
  const calls: EngineCall[] = [];
  const start = (call: EngineCall) => {
    calls.push(call);
    options.onStart?.(call);
  };
  const hangs = (engine: 'tls' | 'web' | 'templates') => options.hang?.engine === engine;

  return {
    calls,
    async speaksTls(address, port, hostname, signal) {
      start({ engine: 'speaksTls', address, hostname, port, signal });
      return realHandshake(address, port, hostname, signal);
    },
    async analyzeTlsEndpoint(input: TlsEndpointInput): Promise<EngineOutput> {
      start({
        engine: 'tls',
        address: input.address,
        hostname: input.hostname,
        port: input.port,
        signal: input.signal,
      });
      if (hangs('tls')) return waitForAbort(input.signal, options.hang!.signal);
      input.onProgress?.({ percent: 50, phase: 'protocols' });
      const location = `${input.hostname}:${input.port}`;
      const findings: ScannerFinding[] = [
        {
          name: 'TLS 1.0 enabled',
          risk: 'medium',
          description: 'The server accepts TLS 1.0, deprecated by RFC 8996.',
          solution: 'Allow TLS 1.2 and 1.3 only.',
          evidence: 'handshake with TLS 1.0 succeeded',
          location,
          rule_id: 'tls.protocol.tls1_0',
          engine: 'secably-tls',
          confidence: 'confirmed',
          cwe: [327],
        },
        {
          name: 'Weak Diffie-Hellman group (1024 bits)',
          risk: 'medium',
          description: 'DHE key exchange uses a 1024-bit group.',
          solution: 'Use ECDHE or a 2048-bit group.',
          evidence: 'DHE-RSA-AES128-SHA with a 1024-bit prime',
          location,
          rule_id: 'tls.weak-dh',
          engine: 'secably-tls',
          confidence: 'confirmed',
          cwe: [326],
          cve: ['CVE-2015-4000'],
        },
      ];
      return { findings, result: { protocols: { tls1_0: true, tls1_2: true, tls1_3: false } } };
    },
    async scanWebApp(input: WebAppScanInput): Promise<EngineOutput> {
      start({
        engine: 'web',
        address: input.address,
        hostname: input.origin.hostname,
        port: input.origin.port,
        mode: input.mode,
        scheme: input.origin.scheme,
        ...(input.budget?.totalTimeMs !== undefined ? { budgetMs: input.budget.totalTimeMs } : {}),
        signal: input.signal,
      });
      if (hangs('web')) return waitForAbort(input.signal, options.hang!.signal);
      const base = `${originLabel(input.origin)}${input.startPath ?? '/'}`;
      return {
        findings: [
          {
            name: 'Content Security Policy (CSP) Header Not Set',
            risk: 'medium',
            description: 'No Content-Security-Policy header.',
            solution: 'Set a Content-Security-Policy header.',
            evidence: '',
            location: base,
            rule_id: '10038',
            engine: 'secably-web',
            confidence: 'high',
            cwe: [693],
          },
          {
            name: 'Cookie No HttpOnly Flag',
            risk: 'low',
            description: 'PHPSESSID is set without HttpOnly.',
            solution: 'Set HttpOnly on session cookies.',
            evidence: 'Set-Cookie: PHPSESSID=3f2a9c0e4b1d; path=/',
            location: base,
            rule_id: '10010',
            engine: 'secably-web',
            confidence: 'medium',
            cwe: [1004],
          },
        ],
        result: { mode: input.mode, urls: 3 },
      };
    },
    async runTemplateScan(input: TemplateScanInput): Promise<EngineOutput> {
      start({
        engine: 'templates',
        address: input.address,
        hostname: input.origin.hostname,
        port: input.origin.port,
        mode: input.mode,
        scheme: input.origin.scheme,
        ...(input.budget?.totalTimeMs !== undefined ? { budgetMs: input.budget.totalTimeMs } : {}),
        signal: input.signal,
      });
      if (hangs('templates')) return waitForAbort(input.signal, options.hang!.signal);
      return {
        findings: [
          {
            name: 'Git Config File Disclosure',
            risk: 'medium',
            description: '/.git/config is served.',
            solution: 'Deny access to .git.',
            evidence: '[core]',
            location: `${originLabel(input.origin)}/.git/config`,
            rule_id: 'git-config',
            engine: 'secably-templates',
            confidence: 'high',
          },
        ],
        result: { templates: input.mode === 'full' ? 5000 : 400 },
      };
    },
  };
}
