import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetUnreachableError } from '../../../scanners/shared/errors.js';
import type { ScanJobInput, ScanTarget } from '../../../scanners/shared/scanner.js';
import { webScanner } from '../../../scanners/web/web.plugin.js';
import { resolveWebTarget } from '../../../scanners/web/webTarget.js';
import { selfSignedCertificate } from '../../support/certificates.js';
import { closedPorts } from '../../support/listeners.js';
import { startInsecureApp, type TestWebApp } from './apps/webApps.js';

const HOST = 'site.test';
const hostTarget: ScanTarget = { id: 't1', value: HOST, type: 'hostname', hostname: HOST };
let https: TestWebApp;
let redirector: Server;
let redirectorPort = 0;

beforeAll(async () => {
  https = await startInsecureApp({ tls: selfSignedCertificate({ commonName: HOST, altNames: [HOST] }) });
  // Plain HTTP that sends everyone to HTTPS on the same host name.
  redirector = createServer((req, res) => {
    res.writeHead(301, { location: `https://${HOST}:${https.port}${req.url ?? '/'}` }).end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  redirectorPort = (redirector.address() as AddressInfo).port;
});
afterAll(async () => {
  await https?.close();
  await new Promise((resolve) => redirector?.close(resolve));
});

describe('what a zap scan of a target covers', () => {
  it('a URL target: exactly its scheme, name, port and path', async () => {
    const target: ScanTarget = {
      id: 't2',
      value: `https://${HOST}:${https.port}/about.html?x=1`,
      type: 'url',
      hostname: HOST,
      url: { scheme: 'https', port: https.port, path: '/about.html?x=1' },
    };
    expect(await resolveWebTarget(target, '127.0.0.1')).toEqual({
      origin: { scheme: 'https', hostname: HOST, port: https.port },
      startPath: '/about.html?x=1',
      notes: [],
      requests: 1,
    });
  });

  it('a host name: HTTP first, HTTPS when nothing answers HTTP', async () => {
    const [closed] = await closedPorts(1);
    const resolved = await resolveWebTarget(hostTarget, '127.0.0.1', { httpPort: closed, httpsPort: https.port });
    expect(resolved.origin).toEqual({ scheme: 'https', hostname: HOST, port: https.port });
    expect(resolved.notes[0]).toMatch(/Nothing answered HTTP/);
  });

  it('HTTP that redirects to HTTPS on the same name moves the scan there', async () => {
    const resolved = await resolveWebTarget(hostTarget, '127.0.0.1', { httpPort: redirectorPort, httpsPort: 1 });
    expect(resolved).toMatchObject({ origin: { scheme: 'https', hostname: HOST, port: https.port }, startPath: '/' });
    expect(resolved.notes[0]).toMatch(/redirects to HTTPS on the same host/);
  });

  it('nothing answering at all is a clear failure', async () => {
    const [a, b] = await closedPorts(2);
    await expect(resolveWebTarget(hostTarget, '127.0.0.1', { httpPort: a, httpsPort: b })).rejects.toBeInstanceOf(
      TargetUnreachableError,
    );
  });

  it('the plug-in’s native runner scans the checked address under the target’s name', { timeout: 60_000 }, async () => {
    const runner = await webScanner.loadRunner!({});
    const progress: { percent: number; phase: string }[] = [];
    const job: ScanJobInput = {
      host: '127.0.0.1',
      target: {
        id: 't3',
        value: `https://${HOST}:${https.port}/`,
        type: 'url',
        hostname: HOST,
        url: { scheme: 'https', port: https.port, path: '/' },
      },
      config: webScanner.configSchema.parse({ scan_mode: 'baseline', spider_enabled: 'false' }),
      timeoutMs: 120_000,
      signal: new AbortController().signal,
      onProgress: (p) => progress.push(p),
      scanId: 's1',
      targetValue: `https://${HOST}:${https.port}/`,
      targetType: 'url',
    };
    const output = await runner(job);
    expect(webScanner.resultSchema.parse(output.scanResult)).toMatchObject({
      engine: 'zap',
      spider: false,
      mode: 'baseline',
      site: `https://${HOST}:${https.port}`,
    });
    expect(output.findings.length).toBeGreaterThan(0);
    expect(output.findings.every((f) => f.location.startsWith(`https://${HOST}:${https.port}/`))).toBe(true);
    expect(progress.at(-1)).toEqual({ percent: 100, phase: 'done' });
  });
});
