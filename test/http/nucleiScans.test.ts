import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticResolver } from '../../adapters/dnsResolver.js';
import { html, startHttpApp, text, type HttpApp } from '../scanners/nuclei/httpApp.js';
import { ADMIN_TOKEN, registerAndLogin, testRuntime, type TestRuntime } from '../support/testRuntime.js';
import { waitFor } from '../support/waitFor.js';

/**
 * Nuclei scans and users' own templates end to end through HTTP, against a web
 * app this test opens on 127.0.0.1 (SECABLY_ALLOWED_TARGETS=127.0.0.0/8), named
 * app.loopback.test by a static resolver. Written for both modes (no swapped
 * clock or scanners): SECABLY_TEST_MODE=distributed runs it on the real servers.
 */
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
let rt: TestRuntime;
let app: HttpApp;

beforeAll(async () => {
  app = await startHttpApp({
    routes: {
      '/': html('<html><head><title>Shop</title></head><body>Welcome</body></html>', 200, {
        server: 'Apache/2.4.49 (Unix)',
      }),
      '/.env': text('APP_ENV=production\nDB_PASSWORD=hunter2\nAPP_KEY=base64:abc\n'),
      '/.git/config': text('[core]\n\trepositoryformatversion = 0\n\tbare = false\n'),
      '/internal/status': text('build: 1.2.3-internal\nowner: platform-team\n'),
    },
  });
  rt = await testRuntime(
    { SECABLY_ALLOWED_TARGETS: '127.0.0.0/8' },
    { resolver: staticResolver({ 'app.loopback.test': ['127.0.0.1'] }) },
  );
});
afterAll(async () => {
  await rt?.cleanup();
  await app?.close();
});

const OWN_TEMPLATE = (id: string) => `id: ${id}
info:
  name: Internal status page public
  author: acme-security
  severity: medium
  description: The internal build status page is reachable from the internet.
  remediation: Restrict /internal/ to the VPN.
  tags: acme,internal
http:
  - method: GET
    path:
      - "{{BaseURL}}/internal/status"
    matchers-condition: and
    matchers:
      - type: status
        status: [200]
      - type: word
        words: ["owner: platform-team"]
    extractors:
      - type: regex
        group: 1
        regex: ['build: (\\S+)']
`;

async function userWithTarget(credits: number) {
  const session = await registerAndLogin(rt);
  if (credits > 0) {
    const granted = await rt.call('POST', `/api/v1/admin/users/${session.userId}/credits/`, {
      headers: admin,
      body: { credits, reason: 'test' },
    });
    expect(granted.status).toBe(200);
  }
  const target = await rt.call('POST', '/api/v1/targets/', {
    token: session.access,
    body: { name: 'shop', target_value: `http://app.loopback.test:${app.port}/` },
  });
  expect(target.status, JSON.stringify(target.body)).toBe(201);
  return { ...session, targetId: target.body.id as string };
}

/** Waits on the read model (polling over HTTP would spend the free plan's monthly requests). */
async function scanEnded(scanId: string): Promise<any> {
  const scans = rt.deps.readModels.collection('scans');
  return waitFor(
    async () => {
      const doc = await scans.get(scanId);
      return doc && ['completed', 'failed', 'cancelled'].includes(String(doc.status)) ? doc : false;
    },
    90_000,
    50,
  );
}

async function balance(token: string): Promise<number> {
  return (await rt.call('GET', '/api/v1/account/credits/', { token })).body.balance.available as number;
}

describe('users’ own nuclei templates', () => {
  it('upload (JSON or YAML body), list, get and delete', async () => {
    const { access } = await registerAndLogin(rt);
    const json = await rt.call('POST', '/api/v1/nuclei/templates/', {
      token: access,
      body: { template: OWN_TEMPLATE('acme-internal-status') },
    });
    expect(json.status, JSON.stringify(json.body)).toBe(201);
    expect(json.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      template_id: 'acme-internal-status',
      name: 'Internal status page public',
      severity: 'medium',
      tags: ['acme', 'internal'],
      rule_id: 'nuclei.user.acme-internal-status',
      requests: 1,
      yaml: OWN_TEMPLATE('acme-internal-status'),
    });
    const yaml = await rt.call('POST', '/api/v1/nuclei/templates/', {
      token: access,
      headers: { 'content-type': 'application/x-yaml' },
      body: OWN_TEMPLATE('acme-second'),
    });
    expect(yaml.status, JSON.stringify(yaml.body)).toBe(201);

    const list = await rt.call('GET', '/api/v1/nuclei/templates/', { token: access });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ count: 2, limit: 5, max_template_bytes: 16384 });
    expect(list.body.results.map((t: any) => t.template_id).sort()).toEqual(['acme-internal-status', 'acme-second']);
    expect(list.body.results[0].yaml).toBeUndefined();

    const one = await rt.call('GET', `/api/v1/nuclei/templates/${json.body.id}/`, { token: access });
    expect(one.status).toBe(200);
    expect(one.body.yaml).toBe(OWN_TEMPLATE('acme-internal-status'));

    const deleted = await rt.call('DELETE', `/api/v1/nuclei/templates/${json.body.id}/`, { token: access });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: json.body.id, deleted: true });
    expect((await rt.call('GET', `/api/v1/nuclei/templates/${json.body.id}/`, { token: access })).status).toBe(404);
    expect((await rt.call('DELETE', `/api/v1/nuclei/templates/${json.body.id}/`, { token: access })).status).toBe(404);
    expect((await rt.call('GET', '/api/v1/nuclei/templates/', { token: access })).body.count).toBe(1);
  });

  it('refuses bad YAML and unsupported features with a 400 naming the line and key', async () => {
    const { access } = await registerAndLogin(rt);
    const upload = (template: string) =>
      rt.call('POST', '/api/v1/nuclei/templates/', { token: access, body: { template } });

    const broken = await upload('id: x\ninfo:\n  name: [oops\n');
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('invalid_template');
    expect(broken.body.details.fields.template[0]).toMatch(/^line \d+: YAML syntax error/);

    const dns = await upload(OWN_TEMPLATE('dns-too').replace('http:\n', 'dns:\n  - name: "{{FQDN}}"\nhttp:\n'));
    expect(dns.status).toBe(400);
    expect(dns.body.details.fields.template).toEqual([
      'line 9: dns: the dns protocol is not supported: only http templates run here',
    ]);
    expect(dns.body.details.issues[0]).toEqual({ line: 9, path: 'dns', message: expect.any(String) });

    const offTarget = await upload(
      OWN_TEMPLATE('elsewhere').replace('"{{BaseURL}}/internal/status"', '"http://169.254.169.254/latest/meta-data/"'),
    );
    expect(offTarget.status).toBe(400);
    expect(offTarget.body.details.fields.template[0]).toMatch(/^line 12: http\[0\]\.path\[0\]: .*absolute URL/);

    const wrongType = await rt.call('POST', '/api/v1/nuclei/templates/', {
      token: access,
      headers: { 'content-type': 'text/plain' },
      body: OWN_TEMPLATE('plain'),
    });
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error).toMatch(/application\/x-yaml/);
    expect((await rt.call('GET', '/api/v1/nuclei/templates/', { token: access })).body.count).toBe(0);
  });

  it('enforces the plan: size and count limits, and one template per id', async () => {
    const { access } = await registerAndLogin(rt);
    const upload = (template: string) =>
      rt.call('POST', '/api/v1/nuclei/templates/', { token: access, body: { template } });
    const large = await upload(`${OWN_TEMPLATE('large')}# ${'x'.repeat(17_000)}\n`);
    expect(large.status).toBe(400);
    expect(large.body).toMatchObject({ code: 'template_too_large', details: { max_template_bytes: 16384 } });

    for (let i = 1; i <= 5; i++) expect((await upload(OWN_TEMPLATE(`check-${i}`))).status).toBe(201);
    const duplicate = await upload(OWN_TEMPLATE('check-1'));
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('template_id_taken');
    const sixth = await upload(OWN_TEMPLATE('check-6'));
    expect(sixth.status).toBe(403);
    expect(sixth.body).toMatchObject({ code: 'template_limit_reached', details: { limit: 5, count: 5 } });
  });
});

describe('the template library holds under concurrency and crashes', () => {
  const slotsHeld = async (userId: string) => {
    const held = new Set<string>();
    for (const event of await rt.deps.store.readStream(`templatelibrary-${userId}`)) {
      if (event.type === 'NucleiTemplateSlotTaken') held.add(String(event.data.templateId));
      if (event.type === 'NucleiTemplateSlotReleased') held.delete(String(event.data.templateId));
    }
    return held.size;
  };

  it('of 8 concurrent uploads on the free plan, exactly 5 pass', async () => {
    const { access, userId } = await registerAndLogin(rt);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        rt.call('POST', '/api/v1/nuclei/templates/', { token: access, body: { template: OWN_TEMPLATE(`race-${i}`) } }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(5);
    expect(results.filter((r) => r.status === 403)).toHaveLength(3);
    expect(await slotsHeld(userId)).toBe(5);
    expect((await rt.call('GET', '/api/v1/nuclei/templates/', { token: access })).body.count).toBe(5);
  });

  it('a slot left by an upload that died is reclaimed once old; a fresh one is not', async () => {
    const { access, userId } = await registerAndLogin(rt);
    const orphan = (msAgo: number) => ({
      id: rt.deps.ids.uuid(),
      type: 'NucleiTemplateSlotTaken',
      data: {
        userId,
        templateId: rt.deps.ids.uuid(),
        nucleiTemplateId: `orphan-${msAgo}-${Math.random().toString(36).slice(2)}`,
        takenAt: new Date(Date.now() - msAgo).toISOString(),
      },
    });
    await rt.deps.store.appendToStream(`templatelibrary-${userId}`, [
      orphan(1000),
      orphan(1000),
      orphan(1000),
      orphan(1000),
      orphan(3_600_000),
    ]);
    const upload = (id: string) =>
      rt.call('POST', '/api/v1/nuclei/templates/', { token: access, body: { template: OWN_TEMPLATE(id) } });
    expect((await upload('after-crash')).status).toBe(201);
    expect(await slotsHeld(userId)).toBe(5);
    expect((await upload('one-too-many')).status).toBe(403);
  });

  it('a removal that died before giving the slot back is completed by deleting again', async () => {
    const { access, userId } = await registerAndLogin(rt);
    const { id } = (
      await rt.call('POST', '/api/v1/nuclei/templates/', {
        token: access,
        body: { template: OWN_TEMPLATE('half-removed') },
      })
    ).body;
    await rt.deps.store.appendToStream(`template-${id}`, [
      {
        id: rt.deps.ids.uuid(),
        type: 'NucleiTemplateRemoved',
        data: { templateId: id, userId, removedAt: new Date().toISOString() },
      },
    ]);
    expect(await slotsHeld(userId)).toBe(1);
    expect((await rt.call('DELETE', `/api/v1/nuclei/templates/${id}/`, { token: access })).status).toBe(404);
    expect(await slotsHeld(userId)).toBe(0);
  });
});

describe('nuclei scans through the API', () => {
  it('a quick scan runs our templates and the user’s own, reporting nuclei results and findings by name', async () => {
    const { access, targetId } = await userWithTarget(2);
    const uploaded = await rt.call('POST', '/api/v1/nuclei/templates/', {
      token: access,
      body: { template: OWN_TEMPLATE('acme-internal-status') },
    });
    expect(uploaded.status).toBe(201);

    const start = await rt.call('POST', '/api/v1/nuclei/scan/', {
      token: access,
      body: { target_id: targetId, scan_mode: 'quick', templates: [uploaded.body.id] },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    expect(start.body).toMatchObject({ scan_type: 'quick', credits_used: 2, credits_remaining: 0 });
    const scanId = start.body.scan_id as string;

    const doc = await scanEnded(scanId);
    expect(doc.status, JSON.stringify(doc.error)).toBe('completed');
    const base = `http://app.loopback.test:${app.port}`;
    const byRule = new Map((doc.findings as any[]).map((f) => [f.rule_id, f]));
    expect(byRule.get('nuclei.env-file-exposure')).toMatchObject({
      risk: 'high',
      location: `${base}/.env`,
      engine: 'nuclei',
    });
    expect(byRule.get('nuclei.git-config-exposure')).toMatchObject({ location: `${base}/.git/config` });
    expect(byRule.get('nuclei.apache-httpd-cve-2021-41773')).toMatchObject({
      cve: ['CVE-2021-41773'],
      location: `${base}/`,
    });
    expect(byRule.get('nuclei.user.acme-internal-status')).toMatchObject({
      risk: 'medium',
      location: `${base}/internal/status`,
      description: 'The internal build status page is reachable from the internet.',
    });
    for (const finding of doc.findings as any[]) expect(finding.location).not.toContain('127.0.0.1');

    const result = await rt.call('GET', `/api/v1/nuclei/scan/${scanId}/`, { token: access });
    expect(result.status).toBe(200);
    const scanResult = result.body.scan_result;
    expect(scanResult).toMatchObject({ engine: 'secably-nuclei', mode: 'quick', target: base });
    const own = scanResult.results.find((r: any) => r['template-id'] === 'acme-internal-status');
    expect(own).toMatchObject({
      'template-path': `user/${uploaded.body.id}`,
      type: 'http',
      'matched-at': `${base}/internal/status`,
      'extracted-results': ['1.2.3-internal'],
      'curl-command': expect.stringContaining(`'${base}/internal/status'`),
    });
    expect(scanResult.templates.user).toEqual([
      { id: uploaded.body.id, 'template-id': 'acme-internal-status', sha256: uploaded.body.sha256 },
    ]);
    expect(scanResult.stats.requests_saved_by_cache).toBeGreaterThan(0);
    expect(scanResult.stats.templates_run).toBe(scanResult.templates.bundled + 1);

    const scan = await rt.call('GET', `/api/v1/scans/${scanId}/`, { token: access });
    expect(scan.body).toMatchObject({
      status: 'completed',
      scanner_type: 'nuclei',
      scan_type: 'quick',
      risk_level: 'critical',
    });
    expect(scan.body.scan_config.templates).toEqual([uploaded.body.id]);
  });

  it('another user can neither see nor run someone’s template, and is not charged', async () => {
    const owner = await registerAndLogin(rt);
    const uploaded = await rt.call('POST', '/api/v1/nuclei/templates/', {
      token: owner.access,
      body: { template: OWN_TEMPLATE('private-check') },
    });
    expect(uploaded.status).toBe(201);
    const id = uploaded.body.id as string;

    const other = await userWithTarget(3);
    expect((await rt.call('GET', `/api/v1/nuclei/templates/${id}/`, { token: other.access })).status).toBe(404);
    expect((await rt.call('DELETE', `/api/v1/nuclei/templates/${id}/`, { token: other.access })).status).toBe(404);
    expect((await rt.call('GET', '/api/v1/nuclei/templates/', { token: other.access })).body.count).toBe(0);

    const run = await rt.call('POST', '/api/v1/scans/create/', {
      token: other.access,
      body: { target_id: other.targetId, scanner_type: 'nuclei', scan_config: { scan_mode: 'full', templates: [id] } },
    });
    expect(run.status).toBe(400);
    expect(run.body.details.fields['scan_config.templates.0']).toEqual([
      `template ${id} not found among your nuclei templates`,
    ]);
    expect(await balance(other.access)).toBe(3);

    const smuggled = await rt.call('POST', '/api/v1/nuclei/scan/', {
      token: other.access,
      body: {
        target_id: other.targetId,
        scan_config: { template_snapshots: [{ id, template_id: 'x', sha256: 'x', yaml: 'x' }] },
      },
    });
    expect(smuggled.status).toBe(400);
    expect(await balance(other.access)).toBe(3);

    // The owner's template is untouched.
    expect((await rt.call('GET', `/api/v1/nuclei/templates/${id}/`, { token: owner.access })).status).toBe(200);
  });

  it('a full scan costs 3 credits and runs every template', async () => {
    const { access, targetId } = await userWithTarget(3);
    const start = await rt.call('POST', '/api/v1/scans/create/', {
      token: access,
      body: { target_id: targetId, scanner_type: 'nuclei', scan_config: { scan_mode: 'full' } },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    expect(start.body.credits_used).toBe(3);
    const doc = await scanEnded(start.body.scan_id);
    expect(doc.status, JSON.stringify(doc.error)).toBe('completed');
    const rules = (doc.findings as any[]).map((f) => f.rule_id);
    expect(rules).toEqual(expect.arrayContaining(['nuclei.env-file-exposure', 'nuclei.security-txt-missing']));
    expect(doc.scan_result.stats.templates_run).toBeGreaterThanOrEqual(40);
  });
});
