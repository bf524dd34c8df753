/**
 * Debian's wapiti (3.0.4) as the reference the web scanner is proven against (test
 * support): runs it on a loopback test app only, through a proxy that forwards to that
 * one app and refuses everything else (so its modules cannot reach any other host), with
 * a JSON report and a bounded time; and maps its findings onto ours.
 *
 * Modules: wapiti's defaults minus `ssrf` (it talks to wapiti's own server on the
 * internet), plus the non-default ones that match our checks (backup, crlf, csrf,
 * htaccess, methods). Not run: nikto, buster, brute_login_form (brute force), wapp
 * (downloads a database), xxe and shellshock (out of our scope). The wapp database file
 * is created empty first, so wapiti does not try to download it at start.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScannerFinding } from '../../../../domain/shared/finding.js';
import { runTool } from '../../../../scanners/shared/childProcess.js';
import { startLoopbackProxy } from './loopbackProxy.js';

export const WAPITI_MODULES = [
  'blindsql',
  'cookieflags',
  'csp',
  'exec',
  'file',
  'http_headers',
  'permanentxss',
  'redirect',
  'sql',
  'xss',
  'backup',
  'crlf',
  'csrf',
  'htaccess',
  'methods',
];

export const hasWapiti = (() => {
  try {
    execFileSync('wapiti', ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
})();

export interface WapitiIssue {
  readonly kind: 'vulnerability' | 'anomaly';
  readonly category: string;
  readonly method: string;
  readonly path: string;
  readonly parameter: string;
  readonly info: string;
}

export interface WapitiRun {
  readonly issues: WapitiIssue[];
  readonly durationMs: number;
  /** Requests wapiti sent to the app (counted by the proxy). */
  readonly requests: number;
  /** What the proxy refused (anything but the app). */
  readonly refused: readonly string[];
  readonly exitCode: number | null;
}

/** Runs wapiti on `http://127.0.0.1:<port>/` (loopback only), scope `folder`. */
export async function runWapiti(
  port: number,
  options: { maxScanSeconds?: number; timeoutMs?: number } = {},
): Promise<WapitiRun> {
  const proxy = await startLoopbackProxy({ host: '127.0.0.1', port });
  const home = mkdtempSync(join(tmpdir(), 'secably-wapiti-'));
  try {
    const config = join(home, 'config');
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'apps.json'), '{}');
    const report = join(home, 'report.json');
    const maxScan = options.maxScanSeconds ?? 400;
    const run = await runTool({
      command: 'wapiti',
      toolName: 'wapiti',
      args: [
        '-u',
        `http://127.0.0.1:${port}/`,
        '--scope',
        'folder',
        '-m',
        WAPITI_MODULES.join(','),
        '-f',
        'json',
        '-o',
        report,
        '--flush-session',
        '--store-session',
        join(home, 'session'),
        '--store-config',
        config,
        '--no-bugreport',
        '-v',
        '0',
        '-t',
        '5',
        '--max-scan-time',
        String(maxScan),
        '-p',
        `http://127.0.0.1:${proxy.port}`,
      ],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' },
      timeoutMs: options.timeoutMs ?? (maxScan + 60) * 1000,
    });
    const parsed = JSON.parse(readFileSync(report, 'utf8')) as {
      vulnerabilities: Record<string, { method: string; path: string; parameter: string; info: string }[]>;
      anomalies: Record<string, { method: string; path: string; parameter: string; info: string }[]>;
    };
    const issues: WapitiIssue[] = [];
    for (const [kind, section] of [
      ['vulnerability', parsed.vulnerabilities],
      ['anomaly', parsed.anomalies],
    ] as const) {
      for (const [category, items] of Object.entries(section)) {
        for (const item of items) {
          issues.push({
            kind,
            category,
            method: item.method,
            path: item.path,
            parameter: item.parameter ?? '',
            info: item.info,
          });
        }
      }
    }
    return {
      issues,
      durationMs: run.durationMs,
      requests: proxy.forwarded(),
      refused: [...proxy.refused],
      exitCode: run.exitCode,
    };
  } finally {
    await proxy.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** How a wapiti issue is matched by our findings, or why it is not expected of us. */
export type WapitiMapping =
  | {
      readonly pluginIds: readonly string[];
      readonly where: 'site' | 'page' | 'param' | 'cookie' | 'form';
      readonly name?: string;
    }
  | { readonly excepted: string }
  | { readonly unmapped: true };

/**
 * Wapiti's categories onto ZAP plugin ids. Excepted (the issue's rule): HSTS, the cookie
 * Secure flag and X-XSS-Protection over plain HTTP (ZAP reports HSTS and Secure on HTTPS
 * only; X-XSS-Protection is obsolete, and ZAP dropped its rule).
 */
export function mapWapitiIssue(issue: WapitiIssue, https: boolean): WapitiMapping {
  switch (issue.category) {
    case 'Backup file':
      return { pluginIds: ['10095'], where: 'page' };
    case 'Content Security Policy Configuration':
      return { pluginIds: ['10038', '10055'], where: 'site' };
    case 'Cross Site Request Forgery':
      return { pluginIds: ['10202', '20012'], where: 'form' };
    case 'Command execution':
      // wapiti's exec module finds both shell commands and PHP eval.
      return { pluginIds: ['90020', '90019'], where: 'param' };
    case 'Path Traversal':
      return { pluginIds: ['6'], where: 'param' };
    case 'HTTP Secure Headers':
      if (/X-Frame-Options/i.test(issue.info)) return { pluginIds: ['10020'], where: 'site' };
      if (/X-Content-Type-Options/i.test(issue.info)) return { pluginIds: ['10021'], where: 'site' };
      if (/Strict-Transport-Security/i.test(issue.info)) {
        return https ? { pluginIds: ['10035'], where: 'site' } : { excepted: 'HSTS over plain HTTP' };
      }
      if (/X-XSS-Protection/i.test(issue.info)) return { excepted: 'X-XSS-Protection (obsolete header)' };
      return { unmapped: true };
    case 'HttpOnly Flag cookie':
      return { pluginIds: ['10010'], where: 'cookie', name: /cookie : (.+)$/.exec(issue.info)?.[1]?.trim() ?? '' };
    case 'Secure Flag cookie':
      return https
        ? { pluginIds: ['10011'], where: 'cookie', name: /cookie : (.+)$/.exec(issue.info)?.[1]?.trim() ?? '' }
        : { excepted: 'cookie Secure flag over plain HTTP' };
    case 'Open Redirect':
      return { pluginIds: ['20019'], where: 'param' };
    case 'Cross Site Scripting':
      return { pluginIds: ['40012', '40014'], where: 'param' };
    case 'SQL Injection':
    case 'Blind SQL Injection':
      return { pluginIds: ['40018', '90021', '40015'], where: 'param' };
    case 'CRLF Injection':
      return { pluginIds: ['40003'], where: 'param' };
    case 'Htaccess Bypass':
      return { pluginIds: ['40038'], where: 'page' };
    case 'Internal Server Error':
      return { pluginIds: ['90022'], where: issue.parameter ? 'param' : 'page' };
    default:
      return { unmapped: true };
  }
}

const pluginOf = (finding: ScannerFinding) => finding.rule_id.replace(/^zap\./, '').split('-')[0]!;
const pathOfLocation = (location: string) => {
  try {
    return new URL(location.split(' ')[0]!).pathname;
  } catch {
    return '';
  }
};

/** Whether one of our findings covers the wapiti issue. */
export function covers(
  finding: ScannerFinding,
  issue: WapitiIssue,
  mapping: Extract<WapitiMapping, { pluginIds: readonly string[] }>,
): boolean {
  if (!mapping.pluginIds.includes(pluginOf(finding))) return false;
  const location = finding.location;
  const path = pathOfLocation(location);
  switch (mapping.where) {
    case 'site':
      return true;
    case 'cookie':
      return location.endsWith(`(cookie ${mapping.name})`);
    case 'page':
      return path === issue.path;
    case 'param':
      return path === issue.path && location.endsWith(`?${issue.parameter}`);
    case 'form':
      // A form is reported on the page that holds it; its action is named in the description.
      return path === issue.path || finding.description.includes(issue.path);
  }
}

export interface Comparison {
  readonly matched: { issue: WapitiIssue; finding: ScannerFinding }[];
  readonly missed: WapitiIssue[];
  readonly excepted: { issue: WapitiIssue; reason: string }[];
  readonly unmapped: WapitiIssue[];
  /** Our findings no wapiti issue maps to. */
  readonly onlyOurs: ScannerFinding[];
}

export function compareWithWapiti(
  findings: readonly ScannerFinding[],
  issues: readonly WapitiIssue[],
  https = false,
): Comparison {
  const matched: Comparison['matched'] = [];
  const missed: WapitiIssue[] = [];
  const excepted: Comparison['excepted'] = [];
  const unmapped: WapitiIssue[] = [];
  const used = new Set<ScannerFinding>();
  const seen = new Set<string>();
  for (const issue of issues) {
    const key = `${issue.kind}|${issue.category}|${issue.method}|${issue.path}|${issue.parameter}|${issue.category === 'Internal Server Error' ? '' : issue.info}`;
    if (seen.has(key)) continue; // wapiti repeats anomalies once per module
    seen.add(key);
    const mapping = mapWapitiIssue(issue, https);
    if ('excepted' in mapping) excepted.push({ issue, reason: mapping.excepted });
    else if ('unmapped' in mapping) unmapped.push(issue);
    else {
      const finding = findings.find((f) => covers(f, issue, mapping));
      if (finding) {
        matched.push({ issue, finding });
        used.add(finding);
      } else missed.push(issue);
    }
  }
  return { matched, missed, excepted, unmapped, onlyOurs: findings.filter((f) => !used.has(f)) };
}
