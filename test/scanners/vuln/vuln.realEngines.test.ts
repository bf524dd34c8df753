/**
 * full_and_fast with the real engines (no fakes): nmap and its NSE scripts, our TLS
 * analysis, our web scanner and our template engine, composed on the deliberately
 * weak services of support/vulnServices.ts on 127.0.0.1 (only their ports are scanned).
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScannerFinding } from '../../../domain/shared/finding.js';
import type { ScanOutput } from '../../../scanners/shared/scanner.js';
import { defaultEngines } from '../../../scanners/vuln/defaultEngines.js';
import { createRunnerWith } from '../../../scanners/vuln/vuln.scanner.js';
import { startVulnServices, type VulnServices } from './support/vulnServices.js';

const HOSTNAME = 'scanme.vuln.test';
const nmapAvailable = (() => {
  try {
    execFileSync('nmap', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!nmapAvailable)('openvas full_and_fast with the real engines', () => {
  let services: VulnServices;
  let output: ScanOutput;
  const by = (engine: string) => output.findings.filter((f) => f.engine === engine);
  const at = (port: number) => (f: { location: string }) => f.location.includes(`:${port}`);

  beforeAll(async () => {
    services = await startVulnServices();
    const run = createRunnerWith(
      defaultEngines,
      {},
      { ports: { kind: 'list', ports: services.all.map((s) => s.port) } },
    );
    output = await run({
      host: '127.0.0.1',
      target: { id: 'target-1', value: HOSTNAME, type: 'hostname', hostname: HOSTNAME },
      config: { scan_profile: 'full_and_fast', port_list: 'top_1000_tcp' },
      timeoutMs: 20 * 60_000,
      signal: new AbortController().signal,
      onProgress: () => {},
      scanId: 'scan-1',
      targetValue: HOSTNAME,
      targetType: 'hostname',
    });
  }, 900_000);

  afterAll(async () => services?.close());

  it('reports the anonymous FTP login from NSE', () => {
    expect(by('nmap-nse').some((f) => f.rule_id === 'nse.ftp-anon' && at(services.ftp.port)(f))).toBe(true);
  });

  it('reports the legacy TLS service’s weaknesses from our TLS engine', () => {
    const tls = by('secably-tls').filter(at(services.legacyTls.port));
    const rules = tls.map((f) => f.rule_id);
    expect(rules).toContain('tls.protocol.tls1_0');
    expect(rules.some((r) => r === 'tls.kex.weak_dh' || r.startsWith('tls.cipher.'))).toBe(true);
    // TLS ran only where TLS is spoken.
    expect(by('secably-tls').every(at(services.legacyTls.port))).toBe(true);
  });

  it('reports the web app’s weaknesses from the web and template engines, on its port only', () => {
    const web = by('zap').filter(at(services.web.port));
    expect(web.length).toBeGreaterThan(0);
    expect(by('zap').every(at(services.web.port))).toBe(true);
    const templates = by('nuclei').filter(at(services.web.port));
    expect(templates.length).toBeGreaterThan(0);
  });

  it('every finding has the one shape, names its engine, and never the address', () => {
    for (const finding of output.findings) {
      expect(() => ScannerFinding.parse(finding)).not.toThrow();
      expect(finding.location).not.toContain('127.0.0.1');
    }
    const result = output.scanResult as { engines: { name: string }[] };
    expect(result.engines.map((e) => e.name)).toEqual(expect.arrayContaining(['nmap', 'nmap-nse']));
  });
});
