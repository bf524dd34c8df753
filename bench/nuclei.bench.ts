/**
 * Nuclei benchmark: our template engine, quick and full, against a loopback app
 * that exposes a dozen of the issues our templates look for.
 *
 *   npx tsx bench/nuclei.bench.ts                        # defaults below
 *   npx tsx bench/nuclei.bench.ts --rounds=10 --latency-ms=0,20
 *
 * Figures, per mode and per server latency (median of the rounds, min–max):
 *   wall           runTemplates() start → end (engine only: no API, no queue), ms
 *   sent           requests that went out (stats.requests_sent)
 *   saved          requests answered from the shared cache (stats.requests_saved_by_cache)
 *   demanded       sent + saved: what the templates asked for
 *   saved share    saved / demanded
 *   findings       findings reported, and which planted issues were found
 *
 * Settings (`--<name>=value`):
 *   rounds         measured rounds per mode and latency (5), after one warm-up round
 *   latency-ms     comma-separated delays the app adds to every answer, to stand in for a
 *                  remote target's round trip (0,20)
 *   concurrency    requests in flight (the engine's default, 6)
 *   json           a file to write every figure to
 *
 * Everything runs on 127.0.0.1: the app is started by this script on a random port.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { templatesForMode } from '../scanners/nuclei/bundledTemplates.js';
import { runTemplates } from '../scanners/nuclei/nucleiScan.js';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--'))
    .map((a) => {
      const [key, ...value] = a.slice(2).split('=');
      return [key!, value.join('=')];
    }),
);
const rounds = Number(args.rounds ?? 5);
const latencies = String(args['latency-ms'] ?? '0,20')
  .split(',')
  .map(Number);
const concurrency = args.concurrency ? Number(args.concurrency) : undefined;

/** The planted issues: path → answer, and the rule that should find each. */
const PLANTED: Record<string, { rule: string; status?: number; type?: string; body: string | Buffer }> = {
  '/.env': { rule: 'env-file-exposure', body: 'APP_ENV=production\nDB_PASSWORD=x\nAPP_KEY=y\n' },
  '/.git/config': { rule: 'git-config-exposure', body: '[core]\n\trepositoryformatversion = 0\n' },
  '/.DS_Store': {
    rule: 'ds-store-exposure',
    type: 'application/octet-stream',
    body: Buffer.concat([Buffer.from('0000000142756431', 'hex'), Buffer.alloc(32)]),
  },
  '/backup.zip': {
    rule: 'backup-archive-exposure',
    type: 'application/zip',
    body: Buffer.concat([Buffer.from('504b0304', 'hex'), Buffer.alloc(32)]),
  },
  '/info.php': {
    rule: 'phpinfo-exposure',
    type: 'text/html',
    body: '<html><head><title>PHP 8.2.7 - phpinfo()</title></head><body><h1 class="p">PHP Version 8.2.7</h1></body></html>',
  },
  '/server-status': {
    rule: 'apache-server-status',
    type: 'text/html',
    body: '<html><body><h1>Apache Server Status for app</h1><dt>Server Version: Apache/2.4.49 (Unix)</dt></body></html>',
  },
  '/actuator/env': {
    rule: 'spring-boot-actuator-env',
    type: 'application/json',
    body: JSON.stringify({ activeProfiles: [], propertySources: [{ name: 'systemEnvironment', properties: {} }] }),
  },
  '/metrics': {
    rule: 'prometheus-metrics-exposure',
    body: '# HELP up Up.\n# TYPE up gauge\nup 1\n',
  },
  '/swagger-ui/index.html': {
    rule: 'swagger-ui-exposure',
    type: 'text/html',
    body: '<html><head><title>Swagger UI</title></head><body><script>SwaggerUIBundle({})</script></body></html>',
  },
  '/uploads/': {
    rule: 'directory-listing',
    type: 'text/html',
    body: '<html><head><title>Index of /uploads</title></head><body><h1>Index of /uploads</h1></body></html>',
  },
  '/.htpasswd': { rule: 'htpasswd-exposure', body: 'admin:$apr1$abc$def\n' },
  '/wp-config.php.bak': { rule: 'wordpress-config-backup', body: "<?php\ndefine('DB_PASSWORD', 'x');\n" },
};
/** Found on `/` (its Server header and its CORS answer). */
const ON_ROOT = ['apache-httpd-cve-2021-41773', 'apache-httpd-cve-2021-42013', 'cors-reflected-origin-credentials'];

function startApp(latencyMs: () => number) {
  const server = createServer((request, response) => {
    const reply = () => {
      const planted = PLANTED[request.url ?? '/'];
      const headers: Record<string, string> = { server: 'Apache/2.4.49 (Unix)' };
      if (request.url === '/') {
        headers['content-type'] = 'text/html';
        if (request.headers.origin) {
          headers['access-control-allow-origin'] = String(request.headers.origin);
          headers['access-control-allow-credentials'] = 'true';
        }
        response.writeHead(200, headers);
        response.end('<html><head><title>Shop</title></head><body>Welcome</body></html>');
      } else if (planted) {
        response.writeHead(planted.status ?? 200, { ...headers, 'content-type': planted.type ?? 'text/plain' });
        response.end(planted.body);
      } else {
        response.writeHead(404, { ...headers, 'content-type': 'text/html' });
        response.end('<html><body><h1>Not Found</h1></body></html>');
      }
    };
    const delay = latencyMs();
    if (delay > 0) setTimeout(reply, delay);
    else reply();
  });
  return new Promise<{ port: number; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        port,
        close: () => {
          server.closeAllConnections();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Row {
  mode: 'quick' | 'full';
  latencyMs: number;
  templates: number;
  wallMs: number[];
  sent: number;
  saved: number;
  findings: number;
  found: string[];
  missed: string[];
  rules: string[];
}

async function main() {
  let currentLatency = 0;
  const app = await startApp(() => currentLatency);
  const rows: Row[] = [];
  try {
    for (const latencyMs of latencies) {
      currentLatency = latencyMs;
      for (const mode of ['quick', 'full'] as const) {
        const templates = templatesForMode(mode);
        const runOnce = () =>
          runTemplates({
            address: '127.0.0.1',
            origin: { scheme: 'http', hostname: 'shop.bench.test', port: app.port },
            mode,
            signal: new AbortController().signal,
            templates,
            ...(concurrency ? { limits: { concurrency } } : {}),
          });
        await runOnce(); // warm-up
        const wallMs: number[] = [];
        let last: Awaited<ReturnType<typeof runOnce>> | undefined;
        for (let round = 0; round < rounds; round++) {
          const started = performance.now();
          last = await runOnce();
          wallMs.push(performance.now() - started);
        }
        const rules = new Set(last!.findings.map((f) => f.rule_id.replace(/^nuclei\./, '')));
        const expected = [...Object.values(PLANTED).map((p) => p.rule), ...ON_ROOT];
        const inMode = new Set(templates.map((t) => t.template.id));
        rows.push({
          mode,
          latencyMs,
          templates: templates.length,
          wallMs,
          sent: last!.result.stats.requests_sent,
          saved: last!.result.stats.requests_saved_by_cache,
          findings: last!.findings.length,
          found: expected.filter((rule) => rules.has(rule)),
          missed: expected.filter((rule) => inMode.has(rule) && !rules.has(rule)),
          rules: [...rules].sort(),
        });
      }
    }
  } finally {
    await app.close();
  }

  console.log(
    `nuclei engine, ${rounds} rounds each after a warm-up; app on 127.0.0.1 with ${Object.keys(PLANTED).length} planted paths and ${ON_ROOT.length} issues on its root page (${Object.keys(PLANTED).length + ON_ROOT.length} rules expected in full)`,
  );
  console.log(
    '| mode | latency | templates | wall median (min–max) | sent | saved by cache | demanded | saved share | findings | planted issues found |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const demanded = row.sent + row.saved;
    console.log(
      `| ${row.mode} | ${row.latencyMs} ms | ${row.templates} | ${median(row.wallMs).toFixed(0)} ms (${Math.min(...row.wallMs).toFixed(0)}–${Math.max(...row.wallMs).toFixed(0)}) | ${row.sent} | ${row.saved} | ${demanded} | ${((row.saved / demanded) * 100).toFixed(1)} % | ${row.findings} | ${row.found.length}${row.missed.length ? ` (missed: ${row.missed.join(', ')})` : ''} |`,
    );
  }
  const quick = rows.filter((r) => r.mode === 'quick');
  const full = rows.filter((r) => r.mode === 'full');
  for (let i = 0; i < quick.length; i++) {
    console.log(
      `latency ${quick[i]!.latencyMs} ms: full / quick wall = ${(median(full[i]!.wallMs) / median(quick[i]!.wallMs)).toFixed(2)}, full / quick requests sent = ${(full[i]!.sent / quick[i]!.sent).toFixed(2)}`,
    );
  }
  for (const row of rows.filter((r) => r.latencyMs === latencies[0])) {
    console.log(`${row.mode} findings: ${row.rules.join(', ')}`);
  }
  if (args.json) writeFileSync(String(args.json), JSON.stringify(rows, null, 2));
}

await main();
