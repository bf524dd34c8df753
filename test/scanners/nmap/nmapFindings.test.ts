import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { identify, ScannerFinding } from '../../../domain/shared/finding.js';
import { nmapFindings } from '../../../scanners/nmap/nmapFindings.js';
import { parseNmapXml, type NmapHost, type NmapPort, type NmapResult } from '../../../scanners/nmap/nmapParser.js';

function fixture(name: string): NmapResult {
  return parseNmapXml(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

/** A parsed result with one host and the given open ports (synthetic, for the rule table). */
function resultWith(ports: Array<Partial<NmapPort> & { port: number }>, address = '192.0.2.10'): NmapResult {
  const host: NmapHost = {
    address,
    address_type: address.includes(':') ? 'ipv6' : 'ipv4',
    hostnames: [],
    status: 'up',
    status_reason: 'user-set',
    latency: 0.01,
    timed_out: false,
    open_ports: ports.map((p) => ({
      protocol: 'tcp',
      state: 'open',
      reason: 'syn-ack',
      service: 'unknown',
      method: null,
      confidence: null,
      ...p,
    })),
    port_counts: { open: ports.length },
  };
  return {
    scanner_version: '7.93',
    args: 'nmap',
    scan_info: [],
    hosts: [host],
    skipped_targets: [],
    runstats: { elapsed: 1, summary: '', exit: 'success', hosts: { up: 1, down: 0, total: 1 } },
  };
}

/** The risk finding (not the 'info' open-port one) for a single port, or undefined. */
function riskOf(port: Partial<NmapPort> & { port: number }): Pick<ScannerFinding, 'name' | 'risk'> | undefined {
  const found = nmapFindings(resultWith([port])).filter((f) => !f.name.startsWith('Open port'));
  expect(found.length).toBeLessThanOrEqual(1);
  const [first] = found;
  return first && { name: first.name, risk: first.risk };
}

describe('nmapFindings on real nmap output', () => {
  it('quick scan (port-number guesses): risk findings for telnet, ftp, 8080 plus one info per open port', () => {
    const findings = nmapFindings(fixture('quick-top1000.xml'));
    expect(findings.map((f) => [f.risk, f.name, f.location])).toEqual([
      ['high', 'Telnet service exposed', '127.0.0.1:23/tcp'],
      ['medium', 'FTP service exposed (cleartext)', '127.0.0.1:21/tcp'],
      ['low', 'Web administration port exposed', '127.0.0.1:8080/tcp'],
      ['info', 'Open port 21/tcp (ftp)', '127.0.0.1:21/tcp'],
      ['info', 'Open port 23/tcp (telnet)', '127.0.0.1:23/tcp'],
      ['info', 'Open port 8080/tcp (http-proxy)', '127.0.0.1:8080/tcp'],
    ]);
    for (const f of findings) expect(ScannerFinding.parse(f)).toEqual(f);
  });

  it('rule ids are stable per check ("nmap.open-port" for every open port), engine nmap, no fingerprint yet', () => {
    const findings = nmapFindings(fixture('quick-top1000.xml'));
    const telnet = findings.find((f) => f.name === 'Telnet service exposed');
    expect(telnet).toMatchObject({ rule_id: 'nmap.telnet-service-exposed', engine: 'nmap', cwe: [319] });
    const open8080 = findings.find((f) => f.name === 'Open port 8080/tcp (http-proxy)');
    expect(open8080).toMatchObject({ rule_id: 'nmap.open-port', confidence: 'confirmed' });
    expect(new Set(findings.map((f) => `${f.rule_id}|${f.location}`)).size).toBe(findings.length);
    for (const f of findings) expect(f).not.toHaveProperty('fingerprint');
  });

  it('the identity of an open port does not change when -sV names the service differently', () => {
    const guessed = nmapFindings(fixture('quick-top1000.xml')).find(
      (f) => f.location === '127.0.0.1:8080/tcp' && f.risk === 'info',
    );
    const probed = nmapFindings(fixture('quick-top1000-aggressive.xml')).find(
      (f) => f.location === '127.0.0.1:8080/tcp' && f.risk === 'info',
    );
    expect(guessed?.name).toBe('Open port 8080/tcp (http-proxy)');
    expect(probed?.name).toBe('Open port 8080/tcp (http)');
    const context = { targetId: 't1', scannerType: 'nmap' };
    expect(identify(probed!, context).fingerprint).toBe(identify(guessed!, context).fingerprint);
  });

  it('locations name the target as the user gave it, never the address DNS returned', () => {
    const findings = nmapFindings(fixture('quick-top1000.xml'), { hostLabel: () => 'shop.example.test' });
    expect(findings.map((f) => f.location)).toContain('shop.example.test:23/tcp');
    expect(findings.every((f) => !f.location.includes('127.0.0.1'))).toBe(true);
  });

  it('aggressive scan: evidence is what nmap saw; services are recognized by name on any port', () => {
    const findings = nmapFindings(fixture('aggressive-service-detection.xml'));
    const ftp = findings.filter((f) => f.name === 'FTP service exposed (cleartext)');
    // vsftpd on 21 and the same banner on the random port 38883: both recognized by -sV.
    expect(ftp.map((f) => f.location)).toEqual(['127.0.0.1:21/tcp', '127.0.0.1:38883/tcp']);
    expect(ftp[0]?.evidence).toBe(
      'nmap: 127.0.0.1 21/tcp open (syn-ack); service: ftp vsftpd 3.0.3; identified by service probing (-sV); CPE: cpe:/a:vsftpd:vsftpd:3.0.3',
    );
    expect(findings.find((f) => f.name === 'Telnet service exposed')?.evidence).toContain('telnet Linux telnetd');
    // The unidentified service on 33251 is only an open port.
    expect(findings.filter((f) => f.location === '127.0.0.1:33251/tcp').map((f) => f.risk)).toEqual(['info']);
    expect(findings.find((f) => f.location === '127.0.0.1:33251/tcp')?.evidence).toContain('service not identified');
    for (const f of findings) {
      expect(ScannerFinding.parse(f)).toEqual(f);
      expect(f.description.length).toBeGreaterThan(40);
      expect(f.solution.length).toBeGreaterThan(40);
    }
  });

  it('unnamed ports are only open ports', () => {
    const findings = nmapFindings(fixture('syn-unidentified-services.xml'));
    expect(findings.map((f) => [f.risk, f.name])).toEqual([
      ['info', 'Open port 33433/tcp (unknown)'],
      ['info', 'Open port 39273/tcp (unknown)'],
      ['info', 'Open port 42431/tcp (unknown)'],
    ]);
  });

  it('nothing open, nothing found', () => {
    expect(nmapFindings(fixture('no-open-ports.xml'))).toEqual([]);
    expect(nmapFindings(fixture('unreachable-filtered.xml'))).toEqual([]);
    expect(nmapFindings(fixture('target-skipped-no-route.xml'))).toEqual([]);
  });

  it('several hosts: each finding located on its host; IPv6 in brackets', () => {
    const multi = nmapFindings(fixture('multi-host-loopback.xml'));
    expect(multi.filter((f) => f.risk === 'info').map((f) => f.location)).toEqual([
      '127.0.0.1:21/tcp',
      '127.0.0.1:8080/tcp',
      '127.0.0.2:8080/tcp',
    ]);
    expect(nmapFindings(fixture('ipv6-loopback.xml')).map((f) => f.location)).toEqual(['[::1]:41823/tcp']);
  });

  it('a host nmap gave up on is reported as such', () => {
    const findings = nmapFindings(fixture('host-timeout.xml'));
    expect(findings).toEqual([
      expect.objectContaining({
        name: 'Host scan timed out',
        risk: 'info',
        location: '127.0.0.1',
        rule_id: 'nmap.host-timed-out',
      }),
    ]);
  });

  it('is deterministic', () => {
    expect(nmapFindings(fixture('aggressive-service-detection.xml'))).toEqual(
      nmapFindings(fixture('aggressive-service-detection.xml')),
    );
  });
});

describe('risky services (rule table, synthetic ports)', () => {
  it('by port number when nmap did not identify the service', () => {
    const cases: Array<[number, string, ScannerFinding['risk']]> = [
      [2375, 'Docker Engine API exposed without TLS', 'critical'],
      [6443, 'Kubernetes API server exposed', 'high'],
      [10250, 'Kubernetes kubelet API exposed', 'high'],
      [10255, 'Kubernetes kubelet API exposed', 'high'],
      [2379, 'etcd exposed', 'high'],
      [23, 'Telnet service exposed', 'high'],
      [512, 'Berkeley r-services (rexec/rlogin/rsh) exposed', 'high'],
      [513, 'Berkeley r-services (rexec/rlogin/rsh) exposed', 'high'],
      [514, 'Berkeley r-services (rexec/rlogin/rsh) exposed', 'high'],
      [139, 'SMB / NetBIOS file sharing exposed', 'high'],
      [445, 'SMB / NetBIOS file sharing exposed', 'high'],
      [5900, 'VNC remote desktop exposed', 'high'],
      [5906, 'VNC remote desktop exposed', 'high'],
      [3306, 'MySQL/MariaDB database exposed', 'high'],
      [5432, 'PostgreSQL database exposed', 'high'],
      [1433, 'Microsoft SQL Server database exposed', 'high'],
      [1521, 'Oracle database exposed', 'high'],
      [27017, 'MongoDB database exposed', 'high'],
      [6379, 'Redis database exposed', 'high'],
      [9200, 'Elasticsearch database exposed', 'high'],
      [11211, 'Memcached database exposed', 'high'],
      [5984, 'CouchDB database exposed', 'high'],
      [9042, 'Cassandra database exposed', 'high'],
      [161, 'SNMP service exposed', 'medium'],
      [3389, 'Remote Desktop (RDP) exposed', 'medium'],
      [21, 'FTP service exposed (cleartext)', 'medium'],
      [10000, 'Webmin administration interface exposed', 'medium'],
      [8080, 'Web administration port exposed', 'low'],
      [8443, 'Web administration port exposed', 'low'],
      [9090, 'Web administration port exposed', 'low'],
      [80, 'Unencrypted HTTP service', 'low'],
    ];
    for (const [port, name, risk] of cases) {
      expect(riskOf({ port }), `unknown service on ${port}`).toEqual({ name, risk });
      // nmap's table guess (method="table") is only the port number again.
      expect(riskOf({ port, service: 'whatever-the-table-says', method: 'table' }), `table guess on ${port}`).toEqual({
        name,
        risk,
      });
    }
    for (const port of [22, 443, 5907, 2376, 33251, 65535]) expect(riskOf({ port }), `port ${port}`).toBeUndefined();
  });

  it('by the name or product -sV found, on any port', () => {
    const probed = (port: number, service: string, extra: Partial<NmapPort> = {}) =>
      riskOf({ port, service, method: 'probed', ...extra });
    expect(probed(2323, 'telnet')).toEqual({ name: 'Telnet service exposed', risk: 'high' });
    expect(probed(13306, 'mysql')).toEqual({ name: 'MySQL/MariaDB database exposed', risk: 'high' });
    expect(probed(16379, 'redis')).toEqual({ name: 'Redis database exposed', risk: 'high' });
    expect(probed(27018, 'mongodb')).toEqual({ name: 'MongoDB database exposed', risk: 'high' });
    expect(probed(4243, 'docker')).toEqual({ name: 'Docker Engine API exposed without TLS', risk: 'critical' });
    expect(probed(5901, 'vnc')).toEqual({ name: 'VNC remote desktop exposed', risk: 'high' });
    expect(probed(4445, 'microsoft-ds')).toEqual({ name: 'SMB / NetBIOS file sharing exposed', risk: 'high' });
    expect(probed(33389, 'ms-wbt-server')).toEqual({ name: 'Remote Desktop (RDP) exposed', risk: 'medium' });
    expect(probed(9201, 'http', { product: 'Elasticsearch REST API' })).toEqual({
      name: 'Elasticsearch database exposed',
      risk: 'high',
    });
    expect(probed(10001, 'http', { product: 'MiniServ', extrainfo: 'Webmin httpd' })).toEqual({
      name: 'Webmin administration interface exposed',
      risk: 'medium',
    });
    expect(probed(9200, 'http')).toEqual({ name: 'Elasticsearch database exposed', risk: 'high' });
    expect(probed(80, 'http', { product: 'nginx' })).toEqual({ name: 'Unencrypted HTTP service', risk: 'low' });
    expect(probed(8080, 'http', { product: 'Apache Tomcat' })).toEqual({
      name: 'Web administration port exposed',
      risk: 'low',
    });
  });

  it('not flagged when -sV found something else on the usual port, or found it inside TLS', () => {
    const probed = (port: number, service: string, extra: Partial<NmapPort> = {}) =>
      riskOf({ port, service, method: 'probed', ...extra });
    expect(probed(3306, 'http')).toBeUndefined();
    expect(probed(23, 'ssh')).toBeUndefined();
    expect(probed(2375, 'http')).toBeUndefined();
    expect(probed(2376, 'docker', { tunnel: 'ssl' })).toBeUndefined();
    expect(probed(80, 'http', { tunnel: 'ssl' })).toBeUndefined();
    expect(probed(21, 'ftp', { tunnel: 'ssl' })).toBeUndefined();
    expect(probed(8888, 'http')).toBeUndefined();
    expect(probed(443, 'http', { tunnel: 'ssl' })).toBeUndefined();
  });

  it('every rule yields a valid finding with a description, a solution and evidence', () => {
    const ports = [
      2375, 6443, 10250, 2379, 23, 512, 139, 5900, 3306, 5432, 1433, 1521, 27017, 6379, 9200, 11211, 5984, 9042, 161,
      3389, 21, 10000, 8080, 80,
    ];
    const findings = nmapFindings(resultWith(ports.map((port) => ({ port }))));
    expect(findings).toHaveLength(ports.length * 2);
    const risks = findings.map((f) => f.risk);
    expect(risks.indexOf('info')).toBe(ports.length);
    expect([...risks]).toEqual(
      [...risks].sort(
        (a, b) =>
          ['critical', 'high', 'medium', 'low', 'info'].indexOf(a) -
          ['critical', 'high', 'medium', 'low', 'info'].indexOf(b),
      ),
    );
    for (const f of findings) {
      expect(ScannerFinding.parse(f)).toEqual(f);
      expect(f.evidence).toMatch(/^nmap: 192\.0\.2\.10 \d+\/tcp open/);
      expect(f.location).toMatch(/^192\.0\.2\.10:\d+\/tcp$/);
    }
  });
});
