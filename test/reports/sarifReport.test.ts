import { describe, expect, it } from 'vitest';
import type { ScannerFinding } from '../../domain/shared/finding.js';
import type { TargetType } from '../../domain/targets/targetValue.js';
import { FINGERPRINT_KEY, locationUri, sarifReport, targetUri } from '../../reports/sarifReport.js';
import { sarifErrors } from './schemas.js';
import { inputOf, manyFindings, sampleFindings, scanStream, textOf } from './scanStream.js';

const finding = (overrides: Partial<ScannerFinding>): ScannerFinding => ({
  name: 'A finding',
  risk: 'medium',
  description: 'What it is.',
  solution: 'How to fix it.',
  evidence: 'proof',
  location: 'x',
  rule_id: 'rule.a',
  engine: 'engine',
  ...overrides,
});

/** What each of our scanners reports, by its locations. */
const EVERY_SCANNER: Record<string, { target: [TargetType, string]; findings: ScannerFinding[] }> = {
  nmap: {
    target: ['ip', '127.0.0.1'],
    findings: [
      finding({ location: '127.0.0.1:23/tcp', rule_id: 'nmap.telnet-service-exposed', engine: 'nmap', risk: 'high' }),
      finding({ location: '127.0.0.1:161/udp', rule_id: 'nmap.open-port', engine: 'nmap', risk: 'info' }),
      finding({ location: '127.0.0.1', rule_id: 'nmap.host-timed-out', engine: 'nmap', risk: 'low' }),
    ],
  },
  nmapIpv6: {
    target: ['ip', '::1'],
    findings: [finding({ location: '[::1]:8080/tcp', rule_id: 'nmap.open-port', engine: 'nmap', risk: 'info' })],
  },
  nmapRange: {
    target: ['range', '10.0.0.0/30'],
    findings: [finding({ location: '10.0.0.2:22/tcp', rule_id: 'nmap.open-port', engine: 'nmap', risk: 'info' })],
  },
  tls: {
    target: ['hostname', 'example.com'],
    findings: [
      finding({ location: 'example.com:443', rule_id: 'tls.protocol.tls10', engine: 'secably-tls', cwe: [327] }),
      finding({ location: 'example.com:443', rule_id: 'tls.cert.expired', engine: 'secably-tls', risk: 'critical' }),
    ],
  },
  web: {
    target: ['url', 'https://example.com/app/'],
    findings: [
      finding({
        location: 'https://example.com/app/search?q=<script>',
        rule_id: '40012',
        engine: 'zap',
        risk: 'high',
        cwe: [79],
        references: ['https://owasp.org/www-community/attacks/xss/', 'not a url'],
      }),
      finding({ location: 'https://example.com/app/', rule_id: '10038', engine: 'zap', risk: 'low' }),
    ],
  },
  nuclei: {
    target: ['url', 'https://example.com'],
    findings: [
      finding({
        location: 'https://example.com/.git/config',
        rule_id: 'git-config',
        engine: 'nuclei',
        risk: 'medium',
        cve: ['CVE-2021-41773'],
        cvss: { score: 7.5, vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' },
      }),
    ],
  },
  openvas: {
    target: ['hostname', 'example.com'],
    findings: [
      finding({ location: 'example.com:22/tcp', rule_id: '1.3.6.1.4.1.25623.1.0.105778', engine: 'openvas' }),
      finding({ location: 'general/tcp', rule_id: '1.3.6.1.4.1.25623.1.0.108021', engine: 'openvas', risk: 'info' }),
    ],
  },
};

async function sarifOf(findings: ScannerFinding[], target: [TargetType, string] = ['hostname', 'example.com']) {
  const { events } = scanStream(findings, { targetType: target[0], targetValue: target[1] });
  const input = inputOf(events);
  return { input, log: JSON.parse(await textOf(sarifReport(input))) };
}

describe('the SARIF export', () => {
  for (const [scanner, { target, findings }] of Object.entries(EVERY_SCANNER)) {
    it(`is valid SARIF 2.1.0 for ${scanner} findings`, async () => {
      const { log } = await sarifOf(findings, target);
      expect(sarifErrors(log)).toBe('');
      expect(log.version).toBe('2.1.0');
      expect(log.runs[0].results).toHaveLength(findings.length);
    });
  }

  it('locates findings by URL, by tcp://host:port, or at the target as artifact', async () => {
    const { log } = await sarifOf(
      [...EVERY_SCANNER.nmap!.findings, ...EVERY_SCANNER.tls!.findings],
      ['ip', '127.0.0.1'],
    );
    const run = log.runs[0];
    expect(run.artifacts).toEqual([
      { location: { uri: 'tcp://127.0.0.1' }, roles: ['analysisTarget'], description: { text: expect.any(String) } },
    ]);
    const uris = run.results.map((r: any) => r.locations[0].physicalLocation.artifactLocation.uri);
    expect(uris).toEqual([
      'tcp://127.0.0.1:23',
      'udp://127.0.0.1:161',
      'tcp://127.0.0.1',
      'tcp://example.com:443',
      'tcp://example.com:443',
    ]);
    for (const r of run.results) expect(r.analysisTarget).toEqual({ uri: 'tcp://127.0.0.1', index: 0 });
    // The host-level finding is at the target, with its location as a logical location.
    expect(run.results[2].locations[0].logicalLocations).toEqual([
      { fullyQualifiedName: '127.0.0.1', kind: 'resource' },
    ]);
    expect(
      locationUri('https://example.com/a b?q=<x>', { id: '', name: '', value: 'example.com', type: 'hostname' }),
    ).toBe('https://example.com/a%20b?q=%3Cx%3E');
    expect(locationUri('22/tcp', { id: '', name: '', value: '::1', type: 'ip' })).toBe('tcp://[::1]:22');
    expect(targetUri({ id: '', name: '', value: '10.0.0.0/30', type: 'range' })).toBe('tcp://10.0.0.0/30');
  });

  it('has a rule per rule id with help text, levels from the risk and fingerprints from ours', async () => {
    const { input, log } = await sarifOf(sampleFindings());
    const run = log.runs[0];
    const rules = run.tool.driver.rules;
    expect(rules.map((r: any) => r.id)).toEqual([
      'nmap.telnet-service-exposed',
      'tls.protocol.tls10',
      '40018',
      '10038',
      'nmap.open-port',
    ]);
    const sqli = rules[2];
    expect(sqli).toMatchObject({
      shortDescription: { text: 'SQL injection' },
      fullDescription: { text: expect.stringContaining('concatenated into an SQL query') },
      help: { text: expect.stringContaining('parameterised queries') },
      helpUri: 'https://owasp.org/www-community/attacks/SQL_Injection',
      defaultConfiguration: { level: 'error' },
      properties: {
        'security-severity': '9.8',
        risk: 'critical',
        tags: ['security', 'external/cwe/cwe-89', 'engine/zap'],
      },
    });
    expect(run.results.map((r: any) => r.level)).toEqual(['error', 'warning', 'error', 'note', 'note']);
    const fingerprints = run.results.map((r: any) => r.partialFingerprints[FINGERPRINT_KEY]);
    const events = await (async () => {
      const out: string[] = [];
      for await (const f of input.findings()) out.push(f.fingerprint);
      return out;
    })();
    expect(fingerprints).toEqual(events);
    for (const [i, r] of run.results.entries()) expect(rules[r.ruleIndex].id).toBe(run.results[i].ruleId);
  });

  it('states the events it was built from in the run properties', async () => {
    const { input, log } = await sarifOf(sampleFindings());
    expect(log.runs[0].properties.secablyReport).toMatchObject({
      stream: input.source.stream,
      last_revision: input.source.lastRevision,
      digest: input.source.digest,
      digest_algorithm: 'sha256',
    });
    expect(log.runs[0].automationDetails.guid).toBe(input.model.scanId);
  });

  it('the same finding in a later scan has the same fingerprint (re-uploads deduplicate)', async () => {
    const first = await sarifOf(sampleFindings());
    const { events } = scanStream(sampleFindings(), { scanId: '9d7e6f5a-1b2c-4d3e-8f9a-0b1c2d3e4f5a' });
    const second = JSON.parse(await textOf(sarifReport(inputOf(events))));
    const keys = (log: any) => log.runs[0].results.map((r: any) => r.partialFingerprints[FINGERPRINT_KEY]);
    expect(keys(second)).toEqual(keys(first.log));
  });

  it('is checked by a validator that refuses what the schema refuses', async () => {
    const { log } = await sarifOf(sampleFindings());
    const broken = structuredClone(log);
    delete broken.runs[0].results[0].message;
    broken.runs[0].results[1].level = 'fatal';
    broken.runs[0].invocations[0].startTimeUtc = 'yesterday';
    const errors = sarifErrors(broken);
    expect(errors).toContain('/runs/0/results/0');
    expect(errors).toContain('/runs/0/results/1/level');
    expect(errors).toContain('/runs/0/invocations/0/startTimeUtc');
  });

  it('an empty scan is a valid log with no results', async () => {
    const { log } = await sarifOf([]);
    expect(sarifErrors(log)).toBe('');
    expect(log.runs[0].results).toEqual([]);
    expect(log.runs[0].tool.driver.rules).toEqual([]);
  });

  it('streams 20,000 findings into a valid log', { timeout: 60_000 }, async () => {
    const { log } = await sarifOf(manyFindings(20_000));
    expect(log.runs[0].results).toHaveLength(20_000);
    expect(log.runs[0].tool.driver.rules).toHaveLength(7);
    expect(sarifErrors(log)).toBe('');
  });
});
