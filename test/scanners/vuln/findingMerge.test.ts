import { describe, expect, it } from 'vitest';
import type { ScannerFinding } from '../../../domain/shared/finding.js';
import { ScannerFinding as ScannerFindingSchema } from '../../../domain/shared/finding.js';
import { endpointOf } from '../../../scanners/vuln/locations.js';
import { mergeFindings, weaknessesOf, type OriginFinding } from '../../../scanners/vuln/findingMerge.js';

const finding = (overrides: Partial<ScannerFinding> & Pick<ScannerFinding, 'rule_id' | 'engine' | 'location'>) =>
  ({
    name: overrides.rule_id,
    risk: 'medium',
    description: 'd',
    solution: 's',
    evidence: `${overrides.engine} saw it`,
    confidence: 'medium',
    ...overrides,
  }) as ScannerFinding;

const nseHeartbleed = finding({
  rule_id: 'nse.ssl-heartbleed',
  engine: 'nmap-nse',
  location: 'shop.example.test:443/tcp',
  risk: 'high',
  confidence: 'high',
  references: ['http://www.openssl.org/news/secadv_20140407.txt'],
});
const tlsHeartbleed = finding({
  rule_id: 'tls.heartbleed',
  engine: 'secably-tls',
  location: 'shop.example.test:443',
  risk: 'critical',
  cve: ['CVE-2014-0160'],
  cwe: [125],
});

describe('endpointOf', () => {
  it('reads the endpoint of every location form', () => {
    expect(endpointOf('shop.example.test:443/tcp')).toEqual({ host: 'shop.example.test', port: 443 });
    expect(endpointOf('Shop.Example.Test:443')).toEqual({ host: 'shop.example.test', port: 443 });
    expect(endpointOf('https://shop.example.test/login?x=1')).toEqual({ host: 'shop.example.test', port: 443 });
    expect(endpointOf('http://shop.example.test:8080/')).toEqual({ host: 'shop.example.test', port: 8080 });
    expect(endpointOf('[2001:db8::1]:22/tcp')).toEqual({ host: '2001:db8::1', port: 22 });
    expect(endpointOf('https://[2001:db8::1]:8443/x')).toEqual({ host: '2001:db8::1', port: 8443 });
    expect(endpointOf('shop.example.test')).toEqual({ host: 'shop.example.test', port: null });
  });
});

describe('weaknessesOf (the equivalence table)', () => {
  it('matches NSE scripts by id and other engines by rule id or name', () => {
    expect(weaknessesOf(nseHeartbleed)).toEqual(['heartbleed']);
    expect(weaknessesOf(tlsHeartbleed)).toEqual(['heartbleed']);
    expect(weaknessesOf(finding({ rule_id: 'TLS_SSLV3_ENABLED', engine: 'x', location: 'h:443' }))).toEqual([
      'ssl3-poodle',
    ]);
    expect(weaknessesOf(finding({ rule_id: 'nse.ssl-dh-params', engine: 'nmap-nse', location: 'h:443/tcp' }))).toEqual([
      'weak-dh',
    ]);
    expect(weaknessesOf(finding({ rule_id: 'tls.weak-dh-group', engine: 'secably-tls', location: 'h:443' }))).toEqual([
      'weak-dh',
    ]);
    expect(
      weaknessesOf(
        finding({ rule_id: '10010', name: 'Cookie No HttpOnly Flag', engine: 'secably-web', location: 'http://h/' }),
      ),
    ).toEqual(['session-cookie-flags']);
    expect(
      weaknessesOf(finding({ rule_id: 'git-config', engine: 'secably-templates', location: 'http://h/.git/config' })),
    ).toEqual(['exposed-git']);
    expect(weaknessesOf(finding({ rule_id: 'nmap.open-port', engine: 'nmap', location: 'h:443/tcp' }))).toEqual([]);
    // An NSE script id never matches by the other engines' patterns.
    expect(weaknessesOf(finding({ rule_id: 'nse.ssl-cert', engine: 'nmap-nse', location: 'h:443/tcp' }))).toEqual([]);
  });
});

describe('mergeFindings', () => {
  it('the same weakness from NSE and the TLS engine is one finding with both sources', () => {
    const { findings, merged } = mergeFindings([
      { origin: 'services', finding: nseHeartbleed },
      { origin: 'tls', finding: tlsHeartbleed },
    ]);
    expect(merged).toBe(1);
    expect(findings).toHaveLength(1);
    const [one] = findings;
    expect(one).toMatchObject({
      rule_id: 'tls.heartbleed',
      engine: 'secably-tls',
      location: 'shop.example.test:443',
      risk: 'critical',
      confidence: 'high',
      cve: ['CVE-2014-0160'],
      cwe: [125],
      references: ['http://www.openssl.org/news/secadv_20140407.txt'],
      sources: [{ engine: 'nmap-nse', rule_id: 'nse.ssl-heartbleed' }],
    });
    expect(one?.evidence).toContain('secably-tls saw it');
    expect(one?.evidence).toContain('Also reported by nmap-nse (nse.ssl-heartbleed): nmap-nse saw it');
    expect(() => ScannerFindingSchema.parse(one)).not.toThrow();
  });

  it('a shared CVE id makes two findings the same weakness', () => {
    const template = finding({
      rule_id: 'CVE-2011-3192',
      engine: 'secably-templates',
      location: 'http://shop.example.test:8080/',
      cve: ['CVE-2011-3192'],
    });
    const nse = finding({
      rule_id: 'nse.http-vuln-cve2011-3192',
      engine: 'nmap-nse',
      location: 'shop.example.test:8080/tcp',
      cve: ['CVE-2011-3192'],
      risk: 'high',
    });
    const { findings } = mergeFindings([
      { origin: 'services', finding: nse },
      { origin: 'templates', finding: template },
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ engine: 'secably-templates', risk: 'high' });
  });

  it('different endpoints, or different weaknesses, stay apart', () => {
    const other = { ...tlsHeartbleed, location: 'shop.example.test:8443' };
    const dh = finding({ rule_id: 'tls.weak-dh', engine: 'secably-tls', location: 'shop.example.test:443' });
    const { findings, merged } = mergeFindings([
      { origin: 'services', finding: nseHeartbleed },
      { origin: 'tls', finding: other },
      { origin: 'tls', finding: dh },
    ]);
    expect(merged).toBe(0);
    expect(findings).toHaveLength(3);
  });

  it('two findings of one engine are never folded together, even through a third', () => {
    const httpOnly = finding({
      rule_id: '10010',
      name: 'Cookie No HttpOnly Flag',
      engine: 'secably-web',
      location: 'http://h:80/',
    });
    const secure = finding({
      rule_id: '10011',
      name: 'Cookie Without Secure Flag',
      engine: 'secably-web',
      location: 'http://h:80/a',
    });
    const nse = finding({ rule_id: 'nse.http-cookie-flags', engine: 'nmap-nse', location: 'h:80/tcp' });
    const { findings } = mergeFindings([
      { origin: 'services', finding: nse },
      { origin: 'web', finding: httpOnly },
      { origin: 'web', finding: secure },
    ]);
    expect(findings.map((f) => f.rule_id)).toEqual(['10010', '10011']);
    expect(findings[0]?.sources).toEqual([{ engine: 'nmap-nse', rule_id: 'nse.http-cookie-flags' }]);
    expect(findings[1]?.sources).toBeUndefined();
  });

  it('exact duplicates fold without a source; the order is most severe first, then input order', () => {
    const input: OriginFinding[] = [
      {
        origin: 'discovery',
        finding: finding({ rule_id: 'nmap.open-port', engine: 'nmap', location: 'h:1/tcp', risk: 'info' }),
      },
      {
        origin: 'services',
        finding: finding({ rule_id: 'nse.ftp-anon', engine: 'nmap-nse', location: 'h:21/tcp', risk: 'high' }),
      },
      {
        origin: 'services',
        finding: finding({ rule_id: 'nse.ftp-anon', engine: 'nmap-nse', location: 'h:21/tcp', risk: 'high' }),
      },
      {
        origin: 'web',
        finding: finding({ rule_id: '10038', engine: 'secably-web', location: 'http://h/', risk: 'medium' }),
      },
    ];
    const { findings, merged } = mergeFindings(input);
    expect(merged).toBe(1);
    expect(findings.map((f) => [f.rule_id, f.sources])).toEqual([
      ['nse.ftp-anon', undefined],
      ['10038', undefined],
      ['nmap.open-port', undefined],
    ]);
  });
});
