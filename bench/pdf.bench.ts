/**
 * PDF report benchmark: the time to render one scan's PDF report (pdfReport: the view
 * from the findings, the Handlebars templates, Chromium's print to PDF) with the
 * service's renderer (one browser, SECABLY_PDF_CONCURRENCY slots), one at a time and
 * 5 at once.
 *
 *   npx tsx bench/pdf.bench.ts                          # defaults below
 *   npx tsx bench/pdf.bench.ts --rounds=10 --sizes=5,1000 --slots=2
 *
 * Figures, per report size and scenario:
 *   cold        the first render of a fresh renderer (launches Chromium), once per size
 *   1 at once   `rounds` renders one after the other: p50 / p95 / max of each render
 *   5 at once   `rounds` waves of 5 renders started together: p50 / p95 / max of each render
 *               from its start (queue wait included: the renderer runs `slots` at a time),
 *               and the wave's throughput (reports/s)
 *   ratio       p50 (5 at once) / p50 (1 at once): the cost of queueing behind 4 others
 *
 * Settings (`--<name>=value`):
 *   sizes       findings per report, comma-separated (5,1000): 5 is a typical small scan
 *               (7 pages), 1,000 fills the table to its limit with 100 detail sections (81 pages)
 *   rounds      renders (1 at once) and waves (5 at once) per size (10)
 *   warmup      renders first discarded per size (2)
 *   slots       the renderer's concurrency, SECABLY_PDF_CONCURRENCY (2, the default)
 *   chromium    the browser (SECABLY_CHROMIUM_PATH or /usr/bin/chromium)
 *   timeout-ms  SECABLY_PDF_TIMEOUT_MS (120000)
 *
 * Nothing leaves the machine (the page loads nothing); the renderer is closed on exit.
 * A report, not a test: the machine is shared, so figures come with the load average.
 */
import { loadavg } from 'node:os';
import type { ScannerFinding } from '../domain/shared/finding.js';
import { pdfReport } from '../reports/pdfReport.js';
import { pdfRenderer } from '../reports/pdfRenderer.js';
import { inputOf, manyFindings, sampleFindings, scanStream } from '../test/reports/scanStream.js';

function option(name: string, fallback: string): string {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? arg.slice(name.length + 3) : fallback;
}

const sizes = option('sizes', '5,1000').split(',').map(Number);
const rounds = Number(option('rounds', '10'));
const warmup = Number(option('warmup', '2'));
const slots = Number(option('slots', '2'));
const chromium = option('chromium', process.env.SECABLY_CHROMIUM_PATH ?? '/usr/bin/chromium');
const timeoutMs = Number(option('timeout-ms', '120000'));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const ms = (n: number) => `${Math.round(n).toLocaleString('en-US')} ms`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function findingsOf(size: number): ScannerFinding[] {
  if (size <= 5) return sampleFindings().slice(0, size);
  return [...sampleFindings(), ...manyFindings(size - 5)];
}

async function main() {
  console.log(`# PDF render benchmark: sizes ${sizes.join(', ')}, ${rounds} rounds, ${slots} slots, ${chromium}`);
  console.log(`load average at start: ${load()}\n`);
  const rows: string[] = [];
  for (const size of sizes) {
    const { events } = scanStream(findingsOf(size), { batchSize: 1000 });
    const input = inputOf(events);
    const renderer = pdfRenderer({ executablePath: chromium, concurrency: slots, timeoutMs });
    try {
      let started = performance.now();
      const first = await pdfReport(input, renderer);
      const cold = performance.now() - started;
      for (let i = 0; i < warmup; i++) await pdfReport(input, renderer);

      const single: number[] = [];
      for (let i = 0; i < rounds; i++) {
        started = performance.now();
        await pdfReport(input, renderer);
        single.push(performance.now() - started);
      }

      const concurrent: number[] = [];
      const throughput: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const wave = performance.now();
        await Promise.all(
          Array.from({ length: 5 }, async () => {
            const t = performance.now();
            await pdfReport(input, renderer);
            concurrent.push(performance.now() - t);
          }),
        );
        throughput.push(5 / ((performance.now() - wave) / 1000));
      }
      const stats = renderer.stats();
      console.log(
        `${size} findings: ${first.length.toLocaleString('en-US')} bytes; browsers launched: ${stats.launches}; load ${load()}`,
      );
      rows.push(
        `| ${size} | ${ms(cold)} | ${ms(percentile(single, 50))} / ${ms(percentile(single, 95))} / ${ms(Math.max(...single))} ` +
          `| ${ms(percentile(concurrent, 50))} / ${ms(percentile(concurrent, 95))} / ${ms(Math.max(...concurrent))} ` +
          `| ${percentile(throughput, 50).toFixed(2)} | ${(percentile(concurrent, 50) / percentile(single, 50)).toFixed(2)} |`,
      );
    } finally {
      await renderer.close();
    }
  }
  console.log(`\nload average at end: ${load()}\n`);
  console.log(
    '| findings | cold (launch + render) | 1 at once p50 / p95 / max | 5 at once p50 / p95 / max | 5 at once reports/s (p50 of waves) | ratio p50 5 ÷ 1 |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
