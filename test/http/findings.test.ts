/**
 * Findings as their own model, end to end through HTTP with the real nmap against
 * listeners this test opens on loopback: new → fixed when a listener closes,
 * reopened when it comes back, never fixed by a scan that did not look there,
 * and the same identity when a hostname's address changes.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticResolver } from '../../adapters/dnsResolver.js';
import { startListeners, type Listeners } from '../support/listeners.js';
import { needsEmbedded, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

const hasNmap = (() => {
  try {
    execFileSync('nmap', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const table: Record<string, string[]> = { 'moving.test': ['127.0.0.1'] };
let rt: TestRuntime;
const opened: Listeners[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  rt = await testRuntime(
    { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8', SECABLY_HOSTS: 'moving.test=127.0.0.1' },
    needsEmbedded ? {} : { resolver: staticResolver(table) },
  );
});
afterAll(async () => {
  await rt?.cleanup();
  await Promise.all(opened.map((l) => l.close()));
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A banner listener on a chosen address and port (sockets' resets ignored). */
async function banner(port: number, host = '127.0.0.1'): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end('220 ready\r\n');
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

async function session() {
  const s = await registerAndLogin(rt);
  // Enterprise: no monthly request quota to trip over.
  await rt.call('POST', `/api/v1/admin/users/${s.userId}/subscription/`, {
    headers: { authorization: 'Bearer test-admin-token-0123456789' },
    body: { plan: 'enterprise' },
  });
  return s;
}

async function target(token: string, value: string) {
  const res = await rt.call('POST', '/api/v1/targets/', { token, body: { name: value, target_value: value } });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function scan(token: string, targetId: string, portRange: string) {
  const res = await rt.call('POST', '/api/v1/nmap/scan/', {
    token,
    body: { target_id: targetId, scan_type: 'quick', port_range: portRange },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.scan_id as string;
  return waitFor(
    async () => {
      const s = await rt.call('GET', `/api/v1/scans/${id}/`, { token });
      return ['completed', 'failed', 'cancelled'].includes(s.body.status) ? s.body : false;
    },
    90_000,
    200,
  );
}

async function findingsOf(token: string, targetId: string) {
  const res = await rt.call('GET', `/api/v1/targets/${targetId}/findings/?page_size=100`, { token });
  expect(res.status).toBe(200);
  return res.body.results as { id: string; location: string; status: string; rule_id: string }[];
}

const atPort = (port: number) => (f: { location: string; rule_id: string }) =>
  f.rule_id === 'nmap.open-port' && f.location.endsWith(`:${port}/tcp`);

describe.skipIf(!hasNmap)('findings across scans', () => {
  it('new → fixed when a listener closes → reopened when it comes back; the diff says the same', async () => {
    const { access } = await session();
    const listeners = await startListeners(2);
    opened.push(listeners);
    const [a, b] = listeners.ports as [number, number];
    const targetId = await target(access, '127.0.0.1');
    const range = `${a},${b}`;

    const first = await scan(access, targetId, range);
    expect(first.status).toBe('completed');
    expect(first.new_findings).toBeNull(); // nothing to compare with yet
    let findings = await findingsOf(access, targetId);
    expect(findings.find(atPort(a))?.status).toBe('new');
    expect(findings.find(atPort(b))?.status).toBe('new');

    // B closes: a scan that looks at B no longer sees it.
    await listeners.close();
    await banner(a);
    const second = await scan(access, targetId, range);
    expect(second).toMatchObject({ status: 'completed', new_findings: 0, fixed_findings: 1, compared_with: first.id });
    findings = await findingsOf(access, targetId);
    expect(findings.find(atPort(a))?.status).toBe('open');
    const fixed = findings.find(atPort(b));
    expect(fixed?.status).toBe('fixed');

    const diff = await rt.call('GET', `/api/v1/scans/${second.id}/diff/?against=${first.id}`, { token: access });
    expect(diff.status).toBe(200);
    expect(diff.body.counts).toEqual({ new: 0, fixed: 1, unchanged: 1 });
    expect(diff.body.fixed.map((f: { fingerprint: string }) => f.fingerprint)).toEqual([fixed?.id]);

    const history = await rt.call('GET', `/api/v1/findings/${fixed?.id}/`, { token: access });
    expect(history.body.history.map((h: { status: string; scan_id: string }) => [h.status, h.scan_id])).toEqual([
      ['new', first.id],
      ['fixed', second.id],
    ]);

    // B comes back.
    await banner(b);
    const third = await scan(access, targetId, range);
    expect(third).toMatchObject({ status: 'completed', new_findings: 1, fixed_findings: 0 });
    findings = await findingsOf(access, targetId);
    expect(findings.find(atPort(b))?.status).toBe('reopened');

    const listed = await rt.call('GET', '/api/v1/findings/?status=reopened', { token: access });
    expect(listed.body.results.map((f: { id: string }) => f.id)).toEqual([fixed?.id]);
  });

  it('a scan with narrower coverage never fixes what it did not look at', async () => {
    const { access } = await session();
    const listeners = await startListeners(2);
    opened.push(listeners);
    const [a, b] = listeners.ports as [number, number];
    const targetId = await target(access, '127.0.0.1');
    await scan(access, targetId, `${a},${b}`);
    await listeners.close();
    const narrower = await scan(access, targetId, String(a));
    expect(narrower.status).toBe('completed');
    expect(narrower.compared_with).toBeNull(); // another coverage: nothing comparable
    const findings = await findingsOf(access, targetId);
    expect(findings.find(atPort(b))?.status).toBe('new');
    expect(findings.filter((f) => f.status === 'fixed')).toEqual([]);
  });

  it('another user sees none of it', async () => {
    const owner = await session();
    const intruder = await session();
    const targetId = await target(owner.access, '127.0.0.1');
    const listeners = await startListeners(1);
    opened.push(listeners);
    const done = await scan(owner.access, targetId, String(listeners.ports[0]));
    const [finding] = await findingsOf(owner.access, targetId);
    for (const path of [
      `/api/v1/findings/${finding?.id}/`,
      `/api/v1/targets/${targetId}/findings/`,
      `/api/v1/scans/${done.id}/findings/`,
      `/api/v1/scans/${done.id}/diff/?against=${done.id}`,
    ]) {
      expect((await rt.call('GET', path, { token: intruder.access })).status, path).toBe(404);
    }
    expect((await rt.call('GET', '/api/v1/findings/', { token: intruder.access })).body.count).toBe(0);
    expect((await rt.call('GET', '/api/v1/findings/?status=gone', { token: owner.access })).status).toBe(400);
    expect((await rt.call('GET', '/api/v1/findings/not-an-id/', { token: owner.access })).status).toBe(404);
  });
});

// It moves DNS under the service: in-process only.
describe.skipIf(!hasNmap || needsEmbedded)('identity of a hostname target whose address changes', () => {
  it('the same findings, not new ones, when the name moves to another address', async () => {
    const { access } = await session();
    const port = await banner(0);
    await banner(port, '127.0.0.2');

    table['moving.test'] = ['127.0.0.1'];
    const targetId = await target(access, 'moving.test');
    const before = await scan(access, targetId, String(port));
    table['moving.test'] = ['127.0.0.2'];
    const after = await scan(access, targetId, String(port));
    expect(after).toMatchObject({ status: 'completed', new_findings: 0, fixed_findings: 0 });
    expect(before.vulnerabilities_list[0].fingerprint).toBe(after.vulnerabilities_list[0].fingerprint);
    expect(after.vulnerabilities_list[0].location).toBe(`moving.test:${port}/tcp`);
    const findings = await findingsOf(access, targetId);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ status: 'open', location: `moving.test:${port}/tcp` });
  });
});
