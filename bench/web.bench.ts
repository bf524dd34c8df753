/**
 * Web scanner benchmark: `zap baseline` and `zap full` (the native engine, called
 * directly) against Debian's wapiti, each on its own instance of the same insecure test
 * app (test/scanners/web/apps/webApps.ts), one run each, one after the other.
 *
 *   npx tsx bench/web.bench.ts [--max-scan-seconds=400] [--json=FILE]
 *
 * Figures: wall time (start to report, Node clock for ours and for the wapiti process),
 * requests sent (ours: the pinned client's count; wapiti: counted by the loopback proxy it
 * is made to use), findings, and the comparison: wapiti issues we miss (the goal: none),
 * issues excepted by the issue's rule (HSTS, cookie Secure flag and X-XSS-Protection over
 * plain HTTP), and our findings wapiti has no issue for. Ratio: wapiti wall / zap full wall
 * (goal ≥ 1: the full scan no slower than wapiti).
 *
 * Only 127.0.0.1 is scanned (apps this bench starts on port 0); wapiti's traffic goes
 * through a proxy that refuses anything but its app; everything is stopped on exit.
 * A report, not a test: exit code 0 unless the bench itself fails.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { scanWebApp } from '../scanners/web/webScan.js';
import { startCountingListener, startInsecureApp, type TestWebApp } from '../test/scanners/web/apps/webApps.js';
import { compareWithWapiti, hasWapiti, runWapiti } from '../test/scanners/web/apps/wapiti.js';

function setting(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3) : (process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback);
}

const maxScanSeconds = Number(setting('max-scan-seconds', '400'));
const jsonFile = setting('json', '');

async function ours(app: TestWebApp, mode: 'baseline' | 'full') {
  const started = performance.now();
  const { findings, result } = await scanWebApp({
    address: '127.0.0.1',
    origin: { scheme: 'http', hostname: '127.0.0.1', port: app.port },
    mode,
    spider: true,
    signal: new AbortController().signal,
  });
  return { findings, result, wallMs: Math.round(performance.now() - started) };
}

async function main(): Promise<void> {
  if (!hasWapiti) throw new Error('wapiti is not installed (apt-get install wapiti)');
  const other = await startCountingListener();
  const apps = await Promise.all([0, 1, 2].map(() => startInsecureApp({ otherOrigin: other.url })));
  try {
    console.log(
      `web bench: ${cpus().length} cores, Node ${process.version}; insecure app on 127.0.0.1 (three instances)`,
    );
    const baseline = await ours(apps[0]!, 'baseline');
    console.log(
      `zap baseline: ${baseline.wallMs} ms, ${baseline.result.requests_sent} requests, ${baseline.findings.length} findings`,
    );
    const full = await ours(apps[1]!, 'full');
    console.log(
      `zap full:     ${full.wallMs} ms, ${full.result.requests_sent} requests, ${full.findings.length} findings`,
    );
    const wapiti = await runWapiti(apps[2]!.port, { maxScanSeconds });
    console.log(
      `wapiti:       ${wapiti.durationMs} ms, ${wapiti.requests} requests, ${wapiti.issues.length} issues (exit ${wapiti.exitCode})`,
    );

    const rows = [];
    for (const [name, run] of [
      ['zap baseline', baseline],
      ['zap full', full],
    ] as const) {
      const comparison = compareWithWapiti(run.findings, wapiti.issues);
      rows.push({ name, run, comparison });
    }
    console.log('\n| scanner | wall time | requests | findings | wapiti issues missed | excepted | found only by us |');
    console.log('|---|---|---|---|---|---|---|');
    for (const { name, run, comparison } of rows) {
      console.log(
        `| ${name} | ${(run.wallMs / 1000).toFixed(1)} s | ${run.result.requests_sent} | ${run.findings.length} | ${comparison.missed.length} of ${comparison.matched.length + comparison.missed.length} | ${comparison.excepted.length} | ${comparison.onlyOurs.length} |`,
      );
    }
    console.log(
      `| wapiti 3.0.4 | ${(wapiti.durationMs / 1000).toFixed(1)} s | ${wapiti.requests} | ${wapiti.issues.length} issues | – | – | – |`,
    );
    console.log(`\nwapiti wall / zap full wall = ${(wapiti.durationMs / full.wallMs).toFixed(1)} (goal ≥ 1)`);
    console.log(`wapiti requests / zap full requests = ${(wapiti.requests / full.result.requests_sent).toFixed(1)}`);
    for (const { name, comparison } of rows) {
      console.log(`\n${name}: wapiti issues missed:`);
      for (const issue of comparison.missed)
        console.log(
          `  - ${issue.category}: ${issue.method} ${issue.path} ${issue.parameter} (${issue.info.slice(0, 80)})`,
        );
      if (comparison.missed.length === 0) console.log('  (none)');
      if (comparison.unmapped.length)
        console.log(`  unmapped wapiti categories: ${comparison.unmapped.map((i) => i.category).join(', ')}`);
    }
    const fullComparison = rows[1]!.comparison;
    console.log('\nexcepted (the issue’s rule):');
    for (const { issue, reason } of fullComparison.excepted)
      console.log(`  - ${issue.category}: ${issue.info.slice(0, 80)} — ${reason}`);
    console.log('\nfound by zap full only:');
    const onlyByRule = new Map<string, string[]>();
    for (const f of fullComparison.onlyOurs)
      onlyByRule.set(`${f.rule_id} ${f.name}`, [
        ...(onlyByRule.get(`${f.rule_id} ${f.name}`) ?? []),
        new URL(f.location.split(' ')[0]!).pathname +
          (f.location.includes('?') ? `?${f.location.split('?')[1]}` : '') +
          (f.location.includes('(cookie') ? ` ${f.location.split(' ').slice(1).join(' ')}` : ''),
      ]);
    for (const [rule, where] of onlyByRule) console.log(`  - ${rule}: ${where.join(', ')}`);
    console.log(
      `\nother host reached: ${other.requests.length} requests; wapiti's proxy refused: ${wapiti.refused.length}`,
    );
    if (jsonFile) {
      writeFileSync(
        jsonFile,
        JSON.stringify(
          {
            baseline: {
              wallMs: baseline.wallMs,
              requests: baseline.result.requests_sent,
              findings: baseline.findings.length,
            },
            full: { wallMs: full.wallMs, requests: full.result.requests_sent, findings: full.findings.length },
            wapiti: { wallMs: wapiti.durationMs, requests: wapiti.requests, issues: wapiti.issues.length },
            comparison: rows.map(({ name, comparison }) => ({
              name,
              matched: comparison.matched.length,
              missed: comparison.missed,
              excepted: comparison.excepted.length,
              onlyOurs: comparison.onlyOurs.map((f) => `${f.rule_id} ${f.location}`),
            })),
          },
          null,
          2,
        ),
      );
    }
  } finally {
    await Promise.all([...apps, other].map((a) => a.close()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
