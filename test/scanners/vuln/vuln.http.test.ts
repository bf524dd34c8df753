/**
 * `POST /openvas/scan/` end to end through the API, the store, the worker and back, in
 * the embedded mode: real nmap and NSE on services this file starts on 127.0.0.1,
 * fake TLS, web and template engines (support/fakeEngines.ts) until the real ones are
 * integrated — the openvas plug-in is swapped for one whose `loadRunner` uses them, so
 * this file runs in the embedded mode only.
 *
 * The runner scans only this file's listeners (the `ports` hook) and, to keep the NSE
 * phase short, reads a three-script index written here (ftp-anon, ssl-dh-params,
 * http-git); the full script selection is exercised in vuln.scanner.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticResolver } from '../../../adapters/dnsResolver.js';
import { BUILT_IN_SCANNERS, scannerRegistry } from '../../../scanners/registry.js';
import type { AnyScannerPlugin } from '../../../scanners/shared/scanner.js';
import { vulnScanner } from '../../../scanners/vuln/vuln.plugin.js';
import { createRunnerWith } from '../../../scanners/vuln/vuln.scanner.js';
import {
  ADMIN_TOKEN,
  needsEmbedded,
  registerAndLogin,
  testRuntime,
  type TestRuntime,
} from '../../support/testRuntime.js';
import { waitFor } from '../../support/waitFor.js';
import { fakeEngines } from './support/fakeEngines.js';
import { startVulnServices, type VulnServices } from './support/vulnServices.js';

const nmapAvailable = spawnSync('nmap', ['--version'], { stdio: 'ignore' }).status === 0;
const HOSTNAME = 'scanme.vuln.test';

function nmapProcessesWith(marker: string): number[] {
  if (!existsSync('/proc/self')) return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
        const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
        return /\bnmap\b/.test(cmdline) && cmdline.includes(marker) && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

const title = 'openvas scans through the API (embedded: real nmap/NSE, fake engines)';
describe.skipIf(needsEmbedded || !nmapAvailable)(title, () => {
  let rt: TestRuntime;
  let services: VulnServices;
  let dir: string;
  let quiet: Server;
  let quietPort: number;
  const sockets = new Set<Socket>();
  let scanPorts: number[] = [];

  beforeAll(async () => {
    services = await startVulnServices();
    quiet = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    });
    quietPort = await new Promise<number>((resolve) =>
      quiet.listen(0, '127.0.0.1', () => resolve((quiet.address() as { port: number }).port)),
    );
    dir = mkdtempSync(join(tmpdir(), 'secably-openvas-http-'));
    const scriptDb = join(dir, 'script.db');
    writeFileSync(
      scriptDb,
      [
        'Entry { filename = "ftp-anon.nse", categories = { "auth", "default", "safe", } }',
        'Entry { filename = "ssl-dh-params.nse", categories = { "safe", "vuln", } }',
        'Entry { filename = "http-git.nse", categories = { "default", "safe", "vuln", } }',
      ].join('\n'),
    );
    const openvas: AnyScannerPlugin = {
      ...vulnScanner,
      // Each scan reads the ports to scan when it starts (the cancel test scans the quiet listener).
      loadRunner: async (settings) => {
        const runnerFor = (ports: number[]) =>
          createRunnerWith(
            fakeEngines(),
            { ...settings, SECABLY_NMAP_SCRIPT_DB: scriptDb },
            { ports: { kind: 'list', ports } },
          );
        return (input) => runnerFor(scanPorts)(input);
      },
    };
    rt = await testRuntime(
      { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8' },
      {
        resolver: staticResolver({ [HOSTNAME]: ['127.0.0.1'] }),
        scanners: scannerRegistry(BUILT_IN_SCANNERS.map((p) => (p.type === 'openvas' ? openvas : p))),
      },
    );
  });

  afterAll(async () => {
    await rt?.cleanup();
    await services?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (quiet ? quiet.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function userWithTarget(credits: number) {
    const session = await registerAndLogin(rt);
    const granted = await rt.call('POST', `/api/v1/admin/users/${session.userId}/credits/`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: { credits, reason: 'test' },
    });
    expect(granted.status).toBe(200);
    const target = await rt.call('POST', '/api/v1/targets/', {
      token: session.access,
      body: { name: 'vuln', target_value: HOSTNAME },
    });
    expect(target.status, JSON.stringify(target.body)).toBe(201);
    return { ...session, targetId: target.body.id as string };
  }

  async function scanDocument(scanId: string, done: (doc: any) => boolean, timeoutMs: number) {
    const scans = rt.deps.readModels.collection('scans');
    return waitFor(
      async () => {
        const doc: any = await scans.get(scanId);
        return doc && done(doc) ? doc : false;
      },
      timeoutMs,
      50,
    );
  }

  it('full_and_fast: 15 credits, then services, findings by engine, and the scan_result', async () => {
    scanPorts = [services.ftp.port, services.legacyTls.port, services.web.port];
    const { access, targetId } = await userWithTarget(15);
    const start = await rt.call('POST', '/api/v1/openvas/scan/', {
      token: access,
      body: { target_id: targetId, scan_config: { scan_profile: 'full_and_fast', port_list: 'top_1000_tcp' } },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    expect(start.body).toMatchObject({ credits_used: 15, credits_remaining: 0 });
    const scanId = start.body.scan_id as string;
    const doc = await scanDocument(scanId, (d) => ['completed', 'failed'].includes(d.status), 240_000);
    expect(doc.status, JSON.stringify(doc.error)).toBe('completed');

    const result = await rt.call('GET', `/api/v1/openvas/scan/${scanId}/`, { token: access });
    expect(result.status).toBe(200);
    const scanResult = result.body.scan_result;
    expect(scanResult.engine).toBe('composed');
    expect(scanResult.services.map((s: any) => [s.host, s.port, s.service])).toEqual(
      [
        [HOSTNAME, services.ftp.port, 'ftp'],
        [HOSTNAME, services.legacyTls.port, 'imap'],
        [HOSTNAME, services.web.port, 'http'],
      ].sort((a, b) => (a[1] as number) - (b[1] as number)),
    );
    expect(scanResult.phases.map((p: any) => p.name)).toEqual(['discovery', 'services', 'tls', 'web', 'templates']);
    expect(result.body.vulnerabilities_found).toBeGreaterThan(0);

    // Every finding is stored with its engine; the weak DH group is one finding from two engines.
    const byRule = new Map<string, any>(doc.findings.map((f: any) => [f.rule_id, f]));
    expect(byRule.get('nse.ftp-anon')).toMatchObject({
      engine: 'nmap-nse',
      location: `${HOSTNAME}:${services.ftp.port}/tcp`,
    });
    expect(byRule.get('tls.weak-dh')).toMatchObject({
      engine: 'secably-tls',
      sources: [{ engine: 'nmap-nse', rule_id: 'nse.ssl-dh-params' }],
    });
    expect(byRule.get('10038')).toMatchObject({ engine: 'secably-web' });
    expect(byRule.get('git-config')).toMatchObject({
      engine: 'secably-templates',
      sources: [{ engine: 'nmap-nse', rule_id: 'nse.http-git' }],
    });
    for (const finding of doc.findings) {
      expect(finding.location).not.toContain('127.0.0.1');
      expect(finding.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    }

    const listed = await rt.call('GET', `/api/v1/scans/${scanId}/`, { token: access });
    expect(listed.body.vulnerabilities_list.map((f: any) => f.name)).toContain(
      'Anonymous FTP login allowed, with a writable directory',
    );
  }, 300_000);

  it('cancel mid-scan stops nmap (none left in /proc) and refunds', async () => {
    scanPorts = [services.ftp.port, quietPort];
    const marker = `-p ${[...scanPorts].sort((a, b) => a - b).join(',')} `;
    const { access, targetId } = await userWithTarget(10);
    const start = await rt.call('POST', '/api/v1/openvas/scan/', {
      token: access,
      body: { target_id: targetId, scan_config: { scan_profile: 'discovery', port_list: 'all_tcp' } },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    const scanId = start.body.scan_id as string;
    await waitFor(() => nmapProcessesWith(marker).length === 1, 60_000, 50);
    const cancel = await rt.call('POST', `/api/v1/scans/${scanId}/cancel/`, { token: access });
    expect(cancel.status).toBe(200);
    await waitFor(() => nmapProcessesWith(marker).length === 0, 15_000, 50);
    await waitFor(async () => {
      const credits = await rt.call('GET', '/api/v1/account/credits/', { token: access });
      return credits.body.balance.available === 10;
    }, 15_000);
    expect((await rt.call('GET', `/api/v1/scans/${scanId}/`, { token: access })).body.status).toBe('cancelled');
  }, 120_000);
});
