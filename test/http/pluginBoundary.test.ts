/**
 * The plug-in boundary: a test scanner added by one folder
 * (test/support/scanners/echo/) and one registry line gets its routes, prices,
 * validation and worker with no other edit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_SCANNERS, scannerRegistry } from '../../scanners/registry.js';
import { echoScanner } from '../support/scanners/echo/echo.plugin.js';
import { needsEmbedded, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

/** A scanner declared but not runnable yet (no runner). */
const { loadRunner: _none, ...plannedScanner } = { ...echoScanner, type: 'planned', title: 'Planned (test scanner)' };

// The one registry line (two test scanners):
const scanners = scannerRegistry([...BUILT_IN_SCANNERS, echoScanner, plannedScanner]);

let rt: TestRuntime;
beforeAll(async () => {
  if (needsEmbedded) return;
  rt = await testRuntime({ SECABLY_ALLOWED_TARGETS: '127.0.0.0/8' }, { scanners });
});
afterAll(async () => rt?.cleanup());

async function userWithTarget(value = '127.0.0.1') {
  const session = await registerAndLogin(rt);
  await rt.call('POST', `/api/v1/admin/users/${session.userId}/subscription/`, {
    headers: { authorization: 'Bearer test-admin-token-0123456789' },
    body: { plan: 'enterprise' },
  });
  const target = await rt.call('POST', '/api/v1/targets/', {
    token: session.access,
    body: { name: 't', target_value: value },
  });
  return { token: session.access, targetId: target.body.id as string };
}

async function completed(token: string, scanId: string) {
  return waitFor(
    async () => {
      const res = await rt.call('GET', `/api/v1/scans/${scanId}/`, { token });
      return ['completed', 'failed'].includes(res.body.status) ? res.body : false;
    },
    60_000,
    50,
  );
}

describe.skipIf(needsEmbedded)('a scanner added by one folder and one registry line', () => {
  it('is priced on /plans/', async () => {
    const plans = await rt.call('GET', '/api/v1/plans/');
    const echo = plans.body.scan_costs.filter((p: { scanner_type: string }) => p.scanner_type === 'echo');
    expect(echo).toEqual([
      { scanner_type: 'echo', scan_profile: 'light', credits: 0, typical_minutes: 1, description: 'Echo light' },
      { scanner_type: 'echo', scan_profile: 'heavy', credits: 2, typical_minutes: 2, description: 'Echo heavy' },
    ]);
  });

  it('gets its own endpoints and runs through the pipeline', async () => {
    const { token, targetId } = await userWithTarget();
    const start = await rt.call('POST', '/api/v1/echo/scan/', { token, body: { target_id: targetId, findings: 4 } });
    expect(start.status).toBe(201);
    expect(start.body).toMatchObject({ scan_type: 'light', scanner_type: 'echo', credits_used: 0 });
    const scan = await completed(token, start.body.scan_id);
    expect(scan).toMatchObject({ status: 'completed', findings_count: 4, scanner_type: 'echo' });
    const result = await rt.call('GET', `/api/v1/echo/scan/${start.body.scan_id}/`, { token });
    expect(result.body.scan_result).toEqual({ reported: 4, padding: '' });
    // Another scanner's result endpoint does not show it.
    expect((await rt.call('GET', `/api/v1/nmap/scan/${start.body.scan_id}/`, { token })).status).toBe(404);
    const listed = await rt.call('GET', '/api/v1/scans/?scanner_type=echo', { token });
    expect(listed.body.count).toBe(1);
  });

  it('is validated, priced and restricted to its target types by its own declaration', async () => {
    const { token, targetId } = await userWithTarget();
    const bad = await rt.call('POST', '/api/v1/scans/create/', {
      token,
      body: { target_id: targetId, scanner_type: 'echo', scan_config: { mode: 'loud', extra: 1 } },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.details.fields).sort()).toEqual(['scan_config', 'scan_config.mode']);
    const heavy = await rt.call('POST', '/api/v1/scans/create/', {
      token,
      body: { target_id: targetId, scanner_type: 'echo', scan_config: { mode: 'heavy' } },
    });
    expect(heavy.status).toBe(201);
    expect(heavy.body.credits_used).toBe(2);
    const range = await userWithTarget('127.0.0.0/30');
    const refused = await rt.call('POST', '/api/v1/echo/scan/', {
      token: range.token,
      body: { target_id: range.targetId },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('target_type_not_supported');
    const unknown = await rt.call('POST', '/api/v1/scans/create/', {
      token,
      body: { target_id: targetId, scanner_type: 'nope' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details.fields.scanner_type[0]).toContain('echo');
  });

  it(
    'a scan of 20,000 findings completes; every finding is listed by the paged endpoint',
    { timeout: 120_000 },
    async () => {
      const { token, targetId } = await userWithTarget();
      const start = await rt.call('POST', '/api/v1/echo/scan/', {
        token,
        body: { target_id: targetId, findings: 20_000 },
      });
      const scan = await completed(token, start.body.scan_id);
      expect(scan).toMatchObject({ status: 'completed', findings_count: 20_000, vulnerabilities_list_truncated: true });
      expect(scan.vulnerabilities_list).toHaveLength(1000);
      expect(scan.vulnerabilities_list[0].risk).toBe('critical');
      expect(scan.vulnerabilities_by_risk).toEqual({
        Critical: 4000,
        High: 4000,
        Medium: 4000,
        Low: 4000,
        Informational: 4000,
      });
      const page = await rt.call('GET', `/api/v1/scans/${start.body.scan_id}/findings/?page=200&page_size=100`, {
        token,
      });
      expect(page.body.count).toBe(20_000);
      expect(page.body.results).toHaveLength(100);
      expect(page.body.next).toBeNull();
      const findings = await rt.call('GET', `/api/v1/targets/${targetId}/findings/?risk=critical&page_size=1`, {
        token,
      });
      expect(findings.body.count).toBe(4000);
    },
  );
});
