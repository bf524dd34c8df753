/** Helpers for the tests that render PDFs with the system's Chromium and read them with poppler. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.SECABLY_CHROMIUM_PATH ?? '/usr/bin/chromium';

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why PDF tests cannot run here ('' when they can): CI installs chromium and poppler-utils. */
export const pdfToolsMissing = !existsSync(CHROMIUM)
  ? `no Chromium at ${CHROMIUM} (apt-get install chromium)`
  : !has('pdftotext') || !has('pdftoppm')
    ? 'no pdftotext/pdftoppm (apt-get install poppler-utils)'
    : '';
if (pdfToolsMissing) console.warn(`PDF tests skipped: ${pdfToolsMissing}`);

/** The browser processes (not their renderer/GPU/zygote children) started with this tag. */
export function browserProcesses(tag: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (args.includes(`--secably-process-tag=${tag}`) && !args.some((a) => a.startsWith('--type='))) {
      pids.push(Number(entry));
    }
  }
  return pids;
}

/** pdftotext of a PDF (layout off: reading order). */
export function pdfText(pdf: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'secably-pdf-'));
  try {
    writeFileSync(join(dir, 'r.pdf'), pdf);
    return execFileSync('pdftotext', ['-enc', 'UTF-8', join(dir, 'r.pdf'), '-'], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The page count (pdfinfo) and the PNG of every page (pdftoppm), as bytes. */
export function pdfPages(pdf: Uint8Array, resolution = 40): { count: number; pngs: Buffer[] } {
  const dir = mkdtempSync(join(tmpdir(), 'secably-pdf-'));
  try {
    writeFileSync(join(dir, 'r.pdf'), pdf);
    const info = execFileSync('pdfinfo', [join(dir, 'r.pdf')], { encoding: 'utf8' });
    const count = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
    execFileSync('pdftoppm', ['-png', '-r', String(resolution), join(dir, 'r.pdf'), join(dir, 'page')]);
    const pngs = readdirSync(dir)
      .filter((name) => name.endsWith('.png'))
      .sort()
      .map((name) => readFileSync(join(dir, name)));
    return { count, pngs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
