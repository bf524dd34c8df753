import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../config.js';
import { SCANNERS } from '../../../scanners/registry.js';
import { vulnScanner } from '../../../scanners/vuln/vuln.plugin.js';

describe('the openvas plug-in', () => {
  it('keeps its type, profiles and prices', () => {
    expect(SCANNERS.get('openvas')).toBe(vulnScanner);
    expect(vulnScanner.profiles.map((p) => [p.name, p.credits])).toEqual([
      ['discovery', 10],
      ['full_and_fast', 15],
      ['deep', 20],
    ]);
  });

  it('validates scan_config strictly', () => {
    expect(vulnScanner.configSchema.parse({})).toEqual({ scan_profile: 'discovery', port_list: 'all_tcp' });
    expect(vulnScanner.configSchema.parse({ scan_profile: 'deep', port_list: 'top_1000_tcp' })).toEqual({
      scan_profile: 'deep',
      port_list: 'top_1000_tcp',
    });
    expect(vulnScanner.configSchema.safeParse({ port_list: 'all_udp' }).success).toBe(false);
    expect(vulnScanner.configSchema.safeParse({ scripts: 'vuln' }).success).toBe(false);
  });

  it('coverage: deep always covers every TCP port', () => {
    expect(vulnScanner.coverageOf!({ scan_profile: 'deep', port_list: 'top_1000_tcp' })).toBe('deep:all_tcp');
    expect(vulnScanner.coverageOf!({ scan_profile: 'discovery', port_list: 'top_1000_tcp' })).toBe(
      'discovery:top_1000_tcp',
    );
  });

  it('its GVM settings are part of the service configuration', () => {
    const config = loadConfig({
      SECABLY_DATA_DIR: '/tmp/x',
      GVM_HOST: 'gvm.internal',
      GVM_PORT: '9390',
      GVM_USERNAME: 'scanner',
      GVM_PASSWORD: 'secret',
      GVM_TLS: 'true',
      GVM_POLL_SECONDS: '5',
    });
    expect(config).toMatchObject({ GVM_HOST: 'gvm.internal', GVM_PORT: 9390, GVM_POLL_SECONDS: 5 });
    expect(() => loadConfig({ SECABLY_DATA_DIR: '/tmp/x', GVM_PORT: 'ninety' })).toThrow(/GVM_PORT/);
    expect(() => loadConfig({ SECABLY_DATA_DIR: '/tmp/x', GVM_TLS: 'maybe' })).toThrow(/GVM_TLS/);
  });

  it('is live: workers load its runner, with the real TLS, web and template engines', async () => {
    expect(vulnScanner.loadRunner).toBeTypeOf('function');
    const { defaultEngines } = await import('../../../scanners/vuln/defaultEngines.js');
    const { analyzeTlsEndpoint } = await import('../../../scanners/tls/tlsAnalysis.js');
    const { scanWebApp } = await import('../../../scanners/web/webScan.js');
    const { runTemplateScan } = await import('../../../scanners/nuclei/nucleiScan.js');
    expect(defaultEngines).toMatchObject({ analyzeTlsEndpoint, scanWebApp, runTemplateScan });
  });
});
