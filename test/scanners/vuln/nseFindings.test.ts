/**
 * NSE results to findings. `services-nse-loopback.xml` is real nmap 7.93 output: the
 * services run of a full_and_fast scan (the exact argv `servicesArguments` builds)
 * against the loopback services of support/vulnServices.ts (ftp 44975, ssh 33247,
 * smtp 46639, legacy TLS 43721, web 35367). The heartbleed and scores cases below are
 * written by hand in the layout of nmap's vulns library (vulns.lua `format_vuln`), as
 * no vulnerable OpenSSL can be run here: they are labelled as such.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ScannerFinding } from '../../../domain/shared/finding.js';
import { parseNmapXml } from '../../../scanners/nmap/nmapParser.js';
import { WEAK_SSH_ALGORITHMS } from '../../../scanners/vuln/nse.rules.js';
import { nseFindings, nseScriptFinding, riskOfCvss, vulnsLibraryEntries } from '../../../scanners/vuln/nseFindings.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const nse = parseNmapXml(fixture('services-nse-loopback.xml'));
const findings = nseFindings(nse, { hostLabel: 'shop.example.test' });
const byRule = (rule: string) => findings.filter((f) => f.rule_id === rule);

describe("the nmap parser's NSE output (scanners/nmap/nmapParser.ts)", () => {
  it('keeps each script with its text and structured output, on ports and on the host', () => {
    const host = nse.hosts[0]!;
    const web = host.open_ports.find((p) => p.port === 35367)!;
    const methods = web.scripts?.find((s) => s.id === 'http-methods');
    expect(methods?.output).toContain('Potentially risky methods: PUT DELETE TRACE');
    expect(methods?.elements).toEqual([
      {
        key: 'Supported Methods',
        table: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'OPTIONS'].map((value) => ({ value })),
      },
      { key: 'Potentially risky methods', table: ['PUT', 'DELETE', 'TRACE'].map((value) => ({ value })) },
    ]);
    expect(host.host_scripts?.map((s) => s.id)).toEqual(['port-states', 'clock-skew']);
    // -sV runs nmap's `version` scripts on its own (http-server-header on an HTTP port).
    const plain = parseNmapXml(fixture('discovery-loopback-services.xml')).hosts[0]!.open_ports.find(
      (p) => p.port === 35367,
    );
    expect(plain?.scripts?.map((s) => s.id)).toEqual(['http-server-header']);
  });
});

describe('NSE findings from a real services run', () => {
  it('every finding is valid, comes from nmap-nse, and sits at the target name', () => {
    for (const finding of findings) {
      expect(() => ScannerFinding.parse(finding)).not.toThrow();
      expect(finding.engine).toBe('nmap-nse');
      expect(finding.rule_id).toMatch(/^nse\.[a-z0-9.-]+$/);
      expect(finding.location).toMatch(/^shop\.example\.test:\d+\/tcp$/);
      expect(finding.location).not.toContain('127.0.0.1');
    }
    expect(findings.map((f) => f.rule_id).sort()).toEqual([
      'nse.ftp-anon',
      'nse.http-cookie-flags',
      'nse.http-git',
      'nse.http-methods',
      'nse.http-trace',
      'nse.http-vuln-cve2011-3192',
      'nse.ssl-dh-params',
    ]);
  });

  it('ftp-anon: anonymous login with a writable directory is high', () => {
    const [anon] = byRule('nse.ftp-anon');
    expect(anon).toMatchObject({
      name: 'Anonymous FTP login allowed, with a writable directory',
      risk: 'high',
      location: 'shop.example.test:44975/tcp',
      cwe: [284, 306],
      confidence: 'high',
    });
    expect(anon?.evidence).toContain('Anonymous FTP login allowed (FTP code 230)');
    expect(anon?.evidence).toContain('[NSE: writeable]');
    expect(anon?.solution).toMatch(/anonymous_enable=NO/);
  });

  it('a vulns-library script keeps its CVE, other ids and references', () => {
    const [range] = byRule('nse.http-vuln-cve2011-3192');
    expect(range).toMatchObject({
      name: 'Apache byterange filter DoS',
      risk: 'high', // our advice table: the script gives no score or risk factor
      location: 'shop.example.test:35367/tcp',
      cve: ['CVE-2011-3192'],
      confidence: 'high',
      cwe: [400],
    });
    // nmap prints references in Lua table order, which varies between runs.
    expect([...(range?.references ?? [])].sort()).toEqual([
      'BID:49303',
      'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2011-3192',
      'https://seclists.org/fulldisclosure/2011/Aug/175',
      'https://www.securityfocus.com/bid/49303',
      'https://www.tenable.com/plugins/nessus/55976',
    ]);
    expect(range?.description).toContain('overlapping byte ranges');
    expect(range?.description).toContain('Disclosed: 2011-08-19');
  });

  it('one finding per script and port, however many vulns tables it prints (stable rule id)', () => {
    const [dh] = byRule('nse.ssl-dh-params');
    const script = nse.hosts[0]?.open_ports
      .find((p) => p.port === 43721)
      ?.scripts?.find((s) => s.id === 'ssl-dh-params');
    expect(vulnsLibraryEntries(script!).map((e) => [e.key, e.state])).toEqual([
      ['NMAP-18', 'VULNERABLE'],
      ['NMAP-19', 'LIKELY VULNERABLE'],
    ]);
    expect(dh).toMatchObject({
      name: 'Diffie-Hellman Key Exchange Insufficient Group Strength (and 1 more from ssl-dh-params)',
      risk: 'medium',
      location: 'shop.example.test:43721/tcp',
      confidence: 'high',
      references: ['https://weakdh.org'],
    });
    expect(dh?.description).toContain('Modulus Length: 1024');
    expect(dh?.description).toContain('Incorrectly Generated Group Parameters — LIKELY VULNERABLE');
  });

  it('scripts with their own wording: git, methods, TRACE, cookies', () => {
    expect(byRule('nse.http-git')[0]).toMatchObject({
      risk: 'high',
      name: 'Git repository exposed over HTTP',
      cwe: [527],
    });
    expect(byRule('nse.http-methods')[0]).toMatchObject({
      risk: 'low',
      name: 'Risky HTTP methods allowed (PUT, DELETE)',
    });
    expect(byRule('nse.http-trace')[0]).toMatchObject({ risk: 'low', name: 'HTTP TRACE method enabled' });
    expect(byRule('nse.http-cookie-flags')[0]).toMatchObject({
      risk: 'low',
      name: 'Session cookie without the HttpOnly flag',
    });
  });

  it('informational output and script errors are not findings', () => {
    const ids = findings.map((f) => f.rule_id);
    for (const id of ['http-title', 'ssl-cert', 'smtp-commands', 'ssh2-enum-algos', 'tls-ticketbleed', 'port-states']) {
      expect(ids).not.toContain(`nse.${id}`);
    }
  });
});

describe('vulns-library output with a risk factor and scores (hand-written, vulns.lua layout)', () => {
  const heartbleed = {
    id: 'ssl-heartbleed',
    output:
      '\n  VULNERABLE:\n  The Heartbleed Bug is a serious vulnerability in the popular OpenSSL cryptographic software library.\n' +
      '    State: VULNERABLE\n    Risk factor: High\n      OpenSSL versions 1.0.1 and 1.0.2-beta releases are affected.\n' +
      '    References:\n      https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2014-0160\n',
    elements: [
      {
        key: 'NMAP-1',
        table: [
          {
            key: 'title',
            value:
              'The Heartbleed Bug is a serious vulnerability in the popular OpenSSL cryptographic software library.',
          },
          { key: 'state', value: 'VULNERABLE' },
          { key: 'description', table: [{ value: 'OpenSSL versions 1.0.1 and 1.0.2-beta releases are affected.' }] },
          {
            key: 'refs',
            table: [
              { value: 'https://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2014-0160' },
              { value: 'http://www.openssl.org/news/secadv_20140407.txt' },
            ],
          },
        ],
      },
    ],
  };

  it('the risk factor sets the risk; CVE ids only from ids (none here), advice gives the fix', () => {
    const finding = nseScriptFinding(heartbleed, 'api.example.test:443/tcp');
    expect(finding).toMatchObject({ risk: 'high', rule_id: 'nse.ssl-heartbleed', cwe: [125] });
    expect(finding?.solution).toMatch(/OpenSSL/);
    expect(finding?.cve).toBeUndefined();
  });

  it('CVSS scores win over the risk factor, and give the CVSS', () => {
    const scored = {
      id: 'http-vuln-cve2014-2127',
      output:
        '\n  VULNERABLE:\n  Cisco ASA SSL VPN Privilege Escalation Vulnerability\n    State: VULNERABLE\n    Risk factor: High  CVSSv2: 8.5 (HIGH) (AV:N/AC:M/Au:S/C:C/I:C/A:C)\n',
      elements: [
        {
          key: 'CVE-2014-2127',
          table: [
            { key: 'title', value: 'Cisco ASA SSL VPN Privilege Escalation Vulnerability' },
            { key: 'state', value: 'VULNERABLE (Exploitable)' },
            { key: 'ids', table: [{ value: 'CVE:CVE-2014-2127' }] },
            { key: 'scores', table: [{ key: 'CVSSv2', value: '8.5 (HIGH) (AV:N/AC:M/Au:S/C:C/I:C/A:C)' }] },
          ],
        },
      ],
    };
    const [entry] = vulnsLibraryEntries(scored);
    expect(entry?.riskFactor).toBe('High');
    const finding = nseScriptFinding(scored, 'vpn.example.test:443/tcp');
    expect(finding).toMatchObject({
      risk: 'high',
      cve: ['CVE-2014-2127'],
      cvss: { score: 8.5, vector: 'HIGH' },
      confidence: 'confirmed',
    });
  });

  it('NOT VULNERABLE tables (vulns.showall) are not findings', () => {
    const notVulnerable = {
      id: 'ssl-poodle',
      output: '\n  NOT VULNERABLE:\n  SSL POODLE information leak\n    State: NOT VULNERABLE\n',
      elements: [
        {
          key: 'CVE-2014-3566',
          table: [
            { key: 'title', value: 'SSL POODLE' },
            { key: 'state', value: 'NOT VULNERABLE' },
          ],
        },
      ],
    };
    expect(nseScriptFinding(notVulnerable, 'a.test:443/tcp')).toBeNull();
  });

  it('maps CVSS to risk bands', () => {
    expect([9.8, 7, 6.9, 4, 0.1, 0].map(riskOfCvss)).toEqual(['critical', 'high', 'medium', 'medium', 'low', 'info']);
  });
});

describe('weak SSH algorithms (ssh2-enum-algos)', () => {
  it('flags RFC 9142 / 8758 weak choices only', () => {
    const result = (kex: string[], ciphers: string[], macs: string[]) => ({
      id: 'ssh2-enum-algos',
      output: 'kex_algorithms: ...',
      elements: [
        { key: 'kex_algorithms', table: kex.map((value) => ({ value })) },
        { key: 'encryption_algorithms', table: ciphers.map((value) => ({ value })) },
        { key: 'mac_algorithms', table: macs.map((value) => ({ value })) },
      ],
    });
    const modern = nseScriptFinding(
      result(
        ['curve25519-sha256', 'diffie-hellman-group14-sha256'],
        ['aes128-ctr', 'chacha20-poly1305@openssh.com'],
        ['hmac-sha2-256'],
      ),
      'a.test:22/tcp',
    );
    expect(modern).toBeNull();
    const legacy = nseScriptFinding(
      result(['diffie-hellman-group1-sha1'], ['aes128-cbc', 'arcfour'], ['hmac-md5']),
      'a.test:22/tcp',
    );
    expect(legacy).toMatchObject({ name: 'Weak SSH algorithms offered', risk: 'low' });
    expect(legacy?.evidence).toContain('kex: diffie-hellman-group1-sha1');
    expect(legacy?.evidence).toContain('encryption: arcfour');
    expect(Object.keys(WEAK_SSH_ALGORITHMS)).toContain('server_host_key_algorithms');
  });
});
