import { describe, expect, it } from 'vitest';
import type { ScannerFinding } from '../../../domain/shared/finding.js';
import {
  boundedEngineResult,
  boundResult,
  capFindings,
  findingsSummary,
  jsonBytes,
  MAX_RESULT_BYTES,
} from '../../../scanners/vuln/vulnResult.js';
import { VulnScanResultSchema, type VulnScanResult } from '../../../scanners/vuln/vulnResultSchema.js';

function result(services: number, scriptChars: number, endpointBytes: number): VulnScanResult {
  return {
    engine: 'composed',
    profile: 'full_and_fast',
    port_list: 'all_tcp',
    ports_scanned: '1-65535',
    host: {
      hostname: 'h.test',
      reachable: true,
      reason: 'x',
      latency: 0.001,
      open_port_count: services,
      port_counts: { open: services },
    },
    services: Array.from({ length: services }, (_, i) => ({
      host: 'h.test',
      port: i + 1,
      protocol: 'tcp',
      service: 'http',
      cpe: ['cpe:/a:apache:http_server:2.4.49'],
      tls: false,
      http: true,
      banner: 'b'.repeat(200),
      scripts: [{ id: 'http-title', output: 't'.repeat(scriptChars) }],
    })),
    engines: [
      {
        name: 'web',
        phase: 'web',
        status: 'completed',
        findings: 0,
        finding_engines: [],
        duration_ms: 1,
        endpoints: [
          {
            endpoint: 'http://h.test:80',
            port: 80,
            status: 'completed',
            duration_ms: 1,
            findings: 0,
            result: { blob: 'x'.repeat(endpointBytes) },
          },
        ],
      },
    ],
    phases: [],
    findings_summary: findingsSummary([], 0, 0),
    duration_ms: 1,
    truncated: false,
  };
}

describe('boundResult', () => {
  it('leaves a small result alone', () => {
    const small = result(5, 100, 100);
    expect(boundResult(small)).toBe(small);
  });

  it('cuts endpoint results, then script output, then banners, then services, to stay under 480 KiB', () => {
    const cases = [result(10, 100, 600_000), result(2_000, 1_000, 10), result(65_535, 0, 10)];
    for (const big of cases) {
      const bounded = boundResult(big);
      expect(jsonBytes(bounded)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
      expect(bounded.truncated).toBe(true);
      expect(() => VulnScanResultSchema.parse(bounded)).not.toThrow();
    }
    const [endpoints, scripts, services] = cases.map((c) => boundResult(c));
    expect(endpoints?.services[0]?.scripts).toBeDefined();
    expect(endpoints?.engines[0]?.endpoints?.[0]?.result).toBeUndefined();
    expect(scripts?.services).toHaveLength(2_000);
    expect(scripts?.services[0]?.scripts).toBeUndefined();
    expect(services!.services.length).toBeLessThan(65_535);
    expect(services!.services.length).toBeGreaterThan(1_000);
  });

  it('drops an engine result that is too large or not JSON', () => {
    expect(boundedEngineResult({ a: 1 })).toEqual({ a: 1 });
    expect(boundedEngineResult({ a: 'x'.repeat(40_000) })).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(boundedEngineResult(cyclic)).toBeUndefined();
  });
});

describe('capFindings and findingsSummary', () => {
  const f = (risk: ScannerFinding['risk'], engine = 'nmap'): ScannerFinding => ({
    name: risk,
    risk,
    description: '',
    solution: '',
    location: 'h',
    rule_id: risk,
    engine,
  });

  it('keeps the most severe findings, in their order', () => {
    const { findings, dropped } = capFindings([f('info'), f('high'), f('low'), f('critical')], 2);
    expect(findings.map((x) => x.risk)).toEqual(['high', 'critical']);
    expect(dropped).toBe(2);
  });

  it('counts by risk and by engine, sources included', () => {
    const merged = { ...f('high', 'secably-tls'), sources: [{ engine: 'nmap-nse', rule_id: 'nse.ssl-heartbleed' }] };
    expect(findingsSummary([merged, f('info')], 1, 0)).toEqual({
      total: 2,
      by_risk: { critical: 0, high: 1, medium: 0, low: 0, info: 1 },
      by_engine: { 'secably-tls': 1, 'nmap-nse': 1, nmap: 1 },
      merged: 1,
      dropped: 0,
    });
  });
});
