/**
 * The Greenbone (GMP) adapter, against the GMP stub of support/gmpStub.ts (a stub of
 * gvmd's protocol written for these tests, not a Greenbone): over TLS with the stub's
 * certificate trusted, and over a Unix socket.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ScannerFinding } from '../../../domain/shared/finding.js';
import { ScanAbortedError, ScannerUnavailableError, ToolFailedError } from '../../../scanners/shared/errors.js';
import type { ScanJobInput, ScanProgress } from '../../../scanners/shared/scanner.js';
import { parseXml } from '../../../scanners/shared/xml.js';
import { completeElementEnd, xmlEscape, type XmlScanState } from '../../../scanners/vuln/gvm/gmpClient.js';
import { gmpTcpRange, topTcpPorts } from '../../../scanners/vuln/gvm/gvmPortList.js';
import { gvmReportFindings, parseNvtTags } from '../../../scanners/vuln/gvm/gvmReport.js';
import { gvmSettingsOf, GVM_PORT_LISTS, GVM_SCAN_CONFIGS } from '../../../scanners/vuln/gvm/gvmScan.js';
import { createRunnerWith } from '../../../scanners/vuln/vuln.scanner.js';
import { VulnScanResultSchema } from '../../../scanners/vuln/vulnResultSchema.js';
import { selfSignedCertificate, type TestCertificate } from '../../support/certificates.js';
import { waitFor } from '../../support/waitFor.js';
import { fakeEngines } from './support/fakeEngines.js';
import { startGmpStub, STUB_REPORT, type GmpStub } from './support/gmpStub.js';

const HOSTNAME = 'shop.example.test';
const NMAP_SERVICES = '/usr/share/nmap/nmap-services';

function job(
  config: Record<string, unknown>,
  signal = new AbortController().signal,
  progress: ScanProgress[] = [],
): ScanJobInput {
  return {
    host: '192.0.2.10',
    target: { id: 't1', value: HOSTNAME, type: 'hostname', hostname: HOSTNAME },
    config,
    timeoutMs: 10 * 60_000,
    signal,
    onProgress: (p) => progress.push(p),
    scanId: 'scan-42',
    targetValue: HOSTNAME,
    targetType: 'hostname',
  };
}

describe('completeElementEnd (GMP framing)', () => {
  it('finds the end of one element fed in pieces', () => {
    const xml =
      '<get_tasks_response status="200" status_text="a>b"><task id="1"><name>x &amp; y</name></task></get_tasks_response>';
    const state: XmlScanState = { pos: 0, depth: 0, started: false };
    let text = '';
    let end = -1;
    for (const ch of xml) {
      text += ch;
      end = completeElementEnd(text, state);
      if (end !== -1) break;
    }
    expect(end).toBe(xml.length);
  });

  it('handles self-closing roots, comments, PIs and CDATA, and leaves what follows', () => {
    expect(completeElementEnd('<a status="200"/><b/>', { pos: 0, depth: 0, started: false })).toBe(17);
    const tricky = '<?xml version="1.0"?><!-- <x> --><r><![CDATA[</r>]]><s/></r>';
    expect(completeElementEnd(tricky, { pos: 0, depth: 0, started: false })).toBe(tricky.length);
    expect(completeElementEnd('<r><s>', { pos: 0, depth: 0, started: false })).toBe(-1);
    expect(completeElementEnd('<!-', { pos: 0, depth: 0, started: false })).toBe(-1);
  });

  it('escapes what we put into commands', () => {
    expect(xmlEscape(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});

describe('gvmSettingsOf', () => {
  it('no Greenbone configured: the composed scan', () => {
    expect(gvmSettingsOf({})).toBeNull();
    expect(gvmSettingsOf({ GVM_USERNAME: 'u' })).toBeNull();
  });

  it('a host: GMP over TLS on 9390, verified, unless told otherwise', () => {
    expect(gvmSettingsOf({ GVM_HOST: 'gvm.internal', GVM_USERNAME: 'u', GVM_PASSWORD: 'p' })).toMatchObject({
      endpoint: { kind: 'tls', host: 'gvm.internal', port: 9390, verify: true },
      scannerId: '08b69003-5fc2-4037-a479-93b440211c73',
      pollMs: 15_000,
    });
    expect(
      gvmSettingsOf({ GVM_HOST: 'h', GVM_PORT: 9391, GVM_USERNAME: 'u', GVM_PASSWORD: 'p', GVM_TLS: 'false' })
        ?.endpoint,
    ).toEqual({ kind: 'tcp', host: 'h', port: 9391 });
    expect(
      gvmSettingsOf({ GVM_HOST: 'h', GVM_USERNAME: 'u', GVM_PASSWORD: 'p', GVM_TLS_INSECURE: 'true' })?.endpoint,
    ).toMatchObject({ verify: false });
    expect(
      gvmSettingsOf({ GVM_SOCKET: '/run/gvmd/gvmd.sock', GVM_USERNAME: 'u', GVM_PASSWORD: 'p' })?.endpoint,
    ).toEqual({
      kind: 'socket',
      path: '/run/gvmd/gvmd.sock',
    });
  });

  it('half a configuration is an error that says what is missing', () => {
    expect(() => gvmSettingsOf({ GVM_HOST: 'h' })).toThrow(/GVM_USERNAME and GVM_PASSWORD/);
    expect(() => gvmSettingsOf({ GVM_HOST: 'h', GVM_SOCKET: '/s', GVM_USERNAME: 'u', GVM_PASSWORD: 'p' })).toThrow(
      /not both/,
    );
    expect(() => gvmSettingsOf({ GVM_HOST: 'h', GVM_PORT: '0', GVM_USERNAME: 'u', GVM_PASSWORD: 'p' })).toThrow(
      /GVM_PORT/,
    );
    expect(() => gvmSettingsOf({ GVM_HOST: 'h', GVM_USERNAME: 'u', GVM_PASSWORD: 'p', GVM_TLS: 'maybe' })).toThrow(
      /GVM_TLS/,
    );
  });
});

describe('port lists and the report mapping (pure)', () => {
  it("nmap's top ports as a GMP range", () => {
    const services =
      'http\t80/tcp\t0.48\nhttps\t443/tcp\t0.2\ntelnet\t23/tcp\t0.22\nx\t24/tcp\t0.001\ndns\t53/udp\t0.9\n# c\nftp\t21/tcp\t0.19\nssh\t22/tcp\t0.18\n';
    expect(topTcpPorts(services, 5)).toEqual([21, 22, 23, 80, 443]);
    expect(gmpTcpRange([80, 21, 22, 23, 443, 22])).toBe('T:21-23,80,443');
    if (existsSync(NMAP_SERVICES)) {
      const top = topTcpPorts(readFileSync(NMAP_SERVICES, 'utf8'), 1000);
      expect(top).toHaveLength(1000);
      expect(top).toEqual(expect.arrayContaining([21, 22, 23, 25, 80, 443, 3306, 8080]));
    }
  });

  it("a gvmd report: findings at the target's name, with CVSS, CVE, references and QoD", () => {
    const mapped = gvmReportFindings(parseXml(STUB_REPORT), HOSTNAME);
    expect(mapped.resultCount).toBe(5);
    expect(mapped.errors).toEqual(['HTTP check (8080/tcp): Connection timed out']);
    expect(mapped.findings.map((f) => [f.rule_id, f.risk, f.location])).toEqual([
      ['gvm.1.3.6.1.4.1.25623.1.0.103936', 'high', 'shop.example.test:443/tcp'],
      ['gvm.1.3.6.1.4.1.25623.1.0.10267', 'info', 'shop.example.test:22/tcp'],
      ['gvm.1.3.6.1.4.1.25623.1.0.80091', 'low', 'shop.example.test:general/tcp'],
    ]);
    const [heartbleed] = mapped.findings;
    expect(heartbleed).toMatchObject({
      name: 'OpenSSL: TLS Heartbeat Read Overrun (Heartbleed)',
      engine: 'openvas-gvm',
      confidence: 'confirmed',
      cve: ['CVE-2014-0160'],
      cvss: { score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' },
      references: ['https://heartbleed.com/', 'CERT-BUND: CB-K14/0412'],
      solution: 'Update OpenSSL to version 1.0.1g or later.',
      evidence: 'Heartbeat response of 16384 bytes received for a 3-byte request.',
    });
    expect(heartbleed?.description).toContain('OpenSSL is prone to an information disclosure vulnerability.');
    expect(heartbleed?.description).toContain('Impact: An attacker can read up to 64k');
    expect(mapped.findings[2]).toMatchObject({ solution: 'Disable TCP timestamps.', cvss: { score: 2.6 } });
    for (const finding of mapped.findings) {
      expect(() => ScannerFinding.parse(finding)).not.toThrow();
      expect(finding.location).not.toContain('192.0.2.10');
    }
    expect(mapped.services).toEqual([
      { port: 22, protocol: 'tcp' },
      { port: 443, protocol: 'tcp' },
    ]);
    expect(mapped.hostCpes).toEqual(['cpe:/a:openbsd:openssh:9.2p1', 'cpe:/o:debian:debian_linux:12']);
    expect(mapped.scanRunStatus).toBe('Done');
  });

  it('reads NVT tags', () => {
    expect(parseNvtTags('summary=a=b|insight=c|solution_type=|x')).toEqual({ summary: 'a=b', insight: 'c' });
  });
});

describe('a scan through the GMP stub', () => {
  let certificate: TestCertificate;
  let dir: string;
  let caFile: string;
  let stub: GmpStub | undefined;

  beforeAll(() => {
    certificate = selfSignedCertificate({ commonName: 'gvm.test', altNames: ['gvm.test'] });
    dir = mkdtempSync(join(tmpdir(), 'secably-gmp-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, certificate.cert);
  });
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const tlsSettings = (port: number, extra: Record<string, unknown> = {}) => ({
    GVM_HOST: '127.0.0.1',
    GVM_PORT: port,
    GVM_USERNAME: 'scanner',
    GVM_PASSWORD: 'secret',
    GVM_CA_FILE: caFile,
    GVM_TLS_SERVERNAME: 'gvm.test',
    ...extra,
  });

  it('full_and_fast over verified TLS: target, task with "Full and fast", start, poll, report, clean up', async () => {
    stub = await startGmpStub({ tls: certificate });
    const engines = fakeEngines();
    const progress: ScanProgress[] = [];
    const run = createRunnerWith(engines, tlsSettings(stub.port), { gvmPollMs: 10 });
    const output = await run(job({ scan_profile: 'full_and_fast', port_list: 'all_tcp' }, undefined, progress));

    expect(stub.names()).toEqual([
      'authenticate',
      'get_configs',
      'create_target',
      'create_task',
      'start_task',
      'authenticate',
      'get_tasks',
      'authenticate',
      'get_tasks',
      'authenticate',
      'get_tasks',
      'authenticate',
      'get_reports',
      'authenticate',
      'stop_task',
      'delete_task',
      'delete_target',
    ]);
    const command = (name: string) => stub!.commands.find((c) => c.name === name)!;
    expect(command('get_configs').attributes.config_id).toBe(GVM_SCAN_CONFIGS.full_and_fast[0]!.id);
    const target = command('create_target');
    expect(target.children.find((c) => c.name === 'hosts')?.text).toBe('192.0.2.10');
    expect(target.children.find((c) => c.name === 'port_list')?.attributes.id).toBe(GVM_PORT_LISTS.allTcp.id);
    expect(target.children.find((c) => c.name === 'alive_tests')?.text).toBe('Consider Alive');
    const task = command('create_task');
    expect(task.children.find((c) => c.name === 'config')?.attributes.id).toBe('daba56c8-73ec-11df-a475-002264764cea');
    expect(task.children.find((c) => c.name === 'scanner')?.attributes.id).toBe('08b69003-5fc2-4037-a479-93b440211c73');
    expect(command('delete_task').attributes.ultimate).toBe('1');

    // The composed engines were not used.
    expect(engines.calls).toEqual([]);
    const result = VulnScanResultSchema.parse(output.scanResult);
    expect(result).toMatchObject({
      engine: 'openvas-gvm',
      profile: 'full_and_fast',
      ports_scanned: 'All TCP',
      host: { hostname: HOSTNAME, reachable: true },
    });
    expect(result.gvm).toMatchObject({
      scan_config: { name: 'Full and fast' },
      port_list: { name: 'All TCP', created: false },
      scan_run_status: 'Done',
      host_cpes: ['cpe:/a:openbsd:openssh:9.2p1', 'cpe:/o:debian:debian_linux:12'],
    });
    expect(result.phases.map((p) => [p.name, p.status])).toEqual([
      ['setup', 'completed'],
      ['scan', 'completed'],
      ['report', 'completed'],
    ]);
    expect(result.services.map((s) => [s.host, s.port])).toEqual([
      [HOSTNAME, 22],
      [HOSTNAME, 443],
    ]);
    expect(output.findings.map((f) => f.engine)).toEqual(['openvas-gvm', 'openvas-gvm', 'openvas-gvm']);
    expect(output.findings[0]?.rule_id).toBe('gvm.1.3.6.1.4.1.25623.1.0.103936');
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['gvm: setup', 'gvm: Running', 'done']));
    expect(progress.at(-1)).toEqual({ percent: 100, phase: 'done' });
  });

  it('deep falls back to "Full and fast" when gvmd has no "Full and very deep"', async () => {
    stub = await startGmpStub({ tls: certificate, configs: ['daba56c8-73ec-11df-a475-002264764cea'] });
    const run = createRunnerWith(fakeEngines(), tlsSettings(stub.port), { gvmPollMs: 10 });
    const output = await run(job({ scan_profile: 'deep', port_list: 'top_1000_tcp' }));
    const configs = stub.commands.filter((c) => c.name === 'get_configs').map((c) => c.attributes.config_id);
    expect(configs).toEqual(['708f25c4-7489-11df-8094-002264764cea', 'daba56c8-73ec-11df-a475-002264764cea']);
    const result = VulnScanResultSchema.parse(output.scanResult);
    expect(result.gvm).toMatchObject({ scan_config: { name: 'Full and fast', wanted: 'Full and very deep' } });
    // deep scans every TCP port whatever port_list says
    expect(result.ports_scanned).toBe('All TCP');
    expect(stub.names()).not.toContain('create_port_list');
  });

  it('discovery of the top 1000 ports over a Unix socket: its own port list, deleted afterwards', async () => {
    const socketPath = join(dir, 'gvmd.sock');
    stub = await startGmpStub({ socketPath });
    const run = createRunnerWith(
      fakeEngines(),
      { GVM_SOCKET: socketPath, GVM_USERNAME: 'scanner', GVM_PASSWORD: 'secret' },
      { gvmPollMs: 10 },
    );
    const output = await run(job({ scan_profile: 'discovery', port_list: 'top_1000_tcp' }));
    expect(stub.commands.find((c) => c.name === 'get_configs')?.attributes.config_id).toBe(
      '8715c877-47a0-438d-98a3-27c7a6ab2196',
    );
    const result = VulnScanResultSchema.parse(output.scanResult);
    if (existsSync(NMAP_SERVICES)) {
      const portList = stub.commands.find((c) => c.name === 'create_port_list');
      const range = portList?.children.find((c) => c.name === 'port_range')?.text ?? '';
      expect(range.startsWith('T:')).toBe(true);
      expect(range.split(',').length).toBeGreaterThan(100);
      expect(stub.names()).toContain('delete_port_list');
      expect(result.ports_scanned).toBe('top 1000');
    } else {
      expect(result.ports_scanned).toBe('All IANA assigned TCP');
    }
    rmSync(socketPath, { force: true });
  });

  it('a refused login is "scanner unavailable", and nothing is created', async () => {
    stub = await startGmpStub({ tls: certificate, password: 'other' });
    const run = createRunnerWith(fakeEngines(), tlsSettings(stub.port), { gvmPollMs: 10 });
    await expect(run(job({ scan_profile: 'discovery', port_list: 'all_tcp' }))).rejects.toThrow(
      ScannerUnavailableError,
    );
    expect(stub.names()).toEqual(['authenticate']);
  });

  it('an untrusted certificate is refused (no CA given, verification on)', async () => {
    stub = await startGmpStub({ tls: certificate });
    const run = createRunnerWith(
      fakeEngines(),
      { GVM_HOST: '127.0.0.1', GVM_PORT: stub.port, GVM_USERNAME: 'scanner', GVM_PASSWORD: 'secret' },
      { gvmPollMs: 10 },
    );
    await expect(run(job({ scan_profile: 'discovery', port_list: 'all_tcp' }))).rejects.toThrow(
      ScannerUnavailableError,
    );
    expect(stub.names()).toEqual([]);
  });

  it('cancel while gvmd scans: the task is stopped and everything we created is deleted', async () => {
    stub = await startGmpStub({ tls: certificate, statuses: ['Running'] });
    const controller = new AbortController();
    const run = createRunnerWith(fakeEngines(), tlsSettings(stub.port), { gvmPollMs: 20 });
    const scan = run(job({ scan_profile: 'full_and_fast', port_list: 'all_tcp' }, controller.signal));
    scan.catch(() => undefined);
    await waitFor(() => stub!.names().filter((n) => n === 'get_tasks').length >= 2, 10_000);
    controller.abort();
    await expect(scan).rejects.toBeInstanceOf(ScanAbortedError);
    await waitFor(() => stub!.names().includes('delete_target'), 10_000);
    expect(stub.names().slice(-4)).toEqual(['authenticate', 'stop_task', 'delete_task', 'delete_target']);
  });

  it('a task gvmd interrupts fails the scan, and is cleaned up', async () => {
    stub = await startGmpStub({ tls: certificate, statuses: ['Running', 'Interrupted'] });
    const run = createRunnerWith(fakeEngines(), tlsSettings(stub.port), { gvmPollMs: 10 });
    await expect(run(job({ scan_profile: 'full_and_fast', port_list: 'all_tcp' }))).rejects.toThrow(ToolFailedError);
    expect(stub.names()).toContain('delete_task');
  });
});
