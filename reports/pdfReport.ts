/**
 * The PDF export: a report a security team can hand to an auditor or a manager,
 * rendered from the Handlebars templates in reports/templates/ by headless Chromium
 * (reports/pdfRenderer.ts).
 *
 * Pages: a cover (target, scanner, profile, dates, score), an executive summary
 * (risk chart as inline SVG, the most severe findings), the findings table by risk,
 * a section per finding (description, evidence, solution, identifiers), and the scan
 * metadata with the events the report was built from (stream, revision, SHA-256
 * digest) and how to verify them. Page numbers in the footer.
 *
 * Bounds, for scans with tens of thousands of findings: the table lists the
 * PDF_TABLE_LIMIT most severe findings and the detail sections the PDF_DETAIL_LIMIT
 * most severe (most severe first, in reported order within a risk); the report says so
 * where it stops, with the counts, and points to the CSV, JSON and SARIF exports,
 * which hold every finding. Findings are read in one streaming pass that keeps only
 * those rows.
 *
 * Escaping: every value goes through Handlebars' `{{ }}` (HTML-escaped); no template
 * uses `{{{ }}}`. The page runs no JavaScript and loads nothing (CSP `default-src
 * 'none'`, and the renderer aborts any request).
 */
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { RISK_LABELS, RISK_WEIGHTS } from '../domain/scans/scoring.js';
import { RISKS, type Finding, type Risk } from '../domain/shared/finding.js';
import { DIGEST_CANONICALIZATION } from './reportDigest.js';
import { GENERATOR, type ReportInput } from './reportInput.js';
import type { PdfRenderer } from './pdfRenderer.js';

/** Rows of the findings table at most. */
export const PDF_TABLE_LIMIT = 1_000;
/** Findings with a detail section at most. */
export const PDF_DETAIL_LIMIT = 100;
/**
 * Reports whose table has at most this many rows are tagged PDFs (structure for screen
 * readers); larger ones are not: tagging made a 1,000-row report 6× larger (2.5 MB
 * instead of 0.4 MB) and ~1.8× slower to render.
 */
export const PDF_TAGGED_ROWS = 200;

export const RISK_COLORS: Readonly<Record<Risk, string>> = {
  critical: '#8e1b3b',
  high: '#d64045',
  medium: '#ee8434',
  low: '#e8b923',
  info: '#5a8dc8',
};
/** A risk's colour for text on white (the light ones darkened to stay readable). */
const RISK_TEXT: Readonly<Record<Risk, string>> = {
  critical: '#8e1b3b',
  high: '#c0353a',
  medium: '#cf661a',
  low: '#9a7400',
  info: '#3f74b5',
};
/** Text on a risk colour. */
const RISK_INK: Readonly<Record<Risk, string>> = {
  critical: '#ffffff',
  high: '#ffffff',
  medium: '#ffffff',
  low: '#3b2f00',
  info: '#ffffff',
};

/**
 * Keeps the `limit` most severe of the items added, most severe first and in the
 * order added within a risk: memory bounded by the limit, whatever goes by.
 */
export function mostSevere<T extends { readonly risk: Risk }>(limit: number) {
  const byRisk = new Map<Risk, T[]>(RISKS.map((risk) => [risk, []]));
  let kept = 0;
  return {
    add(item: T): void {
      if (limit <= 0) return;
      if (kept >= limit) {
        const rank = RISKS.indexOf(item.risk);
        const lesser = [...RISKS].reverse().find((risk) => RISKS.indexOf(risk) > rank && byRisk.get(risk)!.length > 0);
        if (!lesser) return;
        byRisk.get(lesser)!.pop();
        kept -= 1;
      }
      byRisk.get(item.risk)!.push(item);
      kept += 1;
    },
    items: (): T[] => RISKS.flatMap((risk) => byRisk.get(risk)!),
  };
}

const TEMPLATE_NAMES = [
  'report',
  'styles',
  'cover',
  'summary',
  'findingsTable',
  'findingDetails',
  'metadata',
  'footer',
];

let compiled: { report: Handlebars.TemplateDelegate; footer: Handlebars.TemplateDelegate } | undefined;

/** The templates, compiled once (from reports/templates/, next to this module). */
function templates() {
  if (compiled) return compiled;
  const hbs = Handlebars.create();
  const read = (name: string) => readFileSync(new URL(`./templates/${name}.hbs`, import.meta.url), 'utf8');
  for (const name of TEMPLATE_NAMES) {
    if (name !== 'report' && name !== 'footer') hbs.registerPartial(name, read(name));
  }
  compiled = {
    report: hbs.compile(read('report'), { strict: true, noEscape: false }),
    footer: hbs.compile(read('footer'), { strict: true, noEscape: false }),
  };
  return compiled;
}

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function when(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${dateFormat.format(date)} UTC`;
}

function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** At most `max` characters, with a note where it was cut. */
function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (cut here; the JSON export holds it whole)`;
}

const number = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${number(n)} ${n === 1 ? one : many}`;

function scoreColor(score: number): string {
  if (score >= 90) return '#1f9d6b';
  if (score >= 70) return '#e8b923';
  if (score >= 40) return '#ee8434';
  return '#d64045';
}

/** Badge text: the label, but "Info" for informational (it fits a table column). */
const SHORT_LABELS: Readonly<Record<Risk, string>> = { ...RISK_LABELS, info: 'Info' };

function riskBadge(risk: Risk) {
  return {
    risk,
    label: RISK_LABELS[risk],
    short: SHORT_LABELS[risk],
    color: RISK_COLORS[risk],
    ink: RISK_INK[risk],
    text: RISK_TEXT[risk],
  };
}

/** The executive summary's sentences. */
function summaryText(input: ReportInput, scannerTitle: string): string[] {
  const { model } = input;
  const counts = RISKS.filter((risk) => model.findingsByRisk[risk] > 0).map(
    (risk) => `${number(model.findingsByRisk[risk])} ${RISK_LABELS[risk].toLowerCase()}`,
  );
  const outcome = model.outcome;
  const first =
    `The ${scannerTitle} scan (${model.scanner.profile} profile) of ${model.target.name} (${model.target.value}) ` +
    `completed on ${when(model.endedAt)} and reported ${plural(model.findingsCount, 'finding')}` +
    (counts.length ? `: ${counts.join(', ')}.` : '.');
  const vulnerable = outcome?.vulnerabilitiesFound ?? 0;
  const second = outcome
    ? vulnerable === 0
      ? `No vulnerability above informational was found: the overall risk level is ${RISK_LABELS[outcome.riskLevel]} and the security score ${outcome.securityScore} out of 100.`
      : `${plural(vulnerable, 'finding')} ${vulnerable === 1 ? 'is a vulnerability' : 'are vulnerabilities'} (above informational). The overall risk level is ${RISK_LABELS[outcome.riskLevel]} and the security score ${outcome.securityScore} out of 100.`
    : '';
  const severe = model.findingsByRisk.critical + model.findingsByRisk.high;
  const third =
    severe > 0
      ? `Address the ${plural(severe, 'critical or high finding', 'critical and high findings')} first: each section of this report says what was found, why it matters and how to fix it.`
      : vulnerable > 0
        ? 'No critical or high finding was reported; plan the remaining fixes in your regular maintenance.'
        : '';
  return [first, second, third].filter(Boolean);
}

function chart(input: ReportInput) {
  const counts = input.model.findingsByRisk;
  const max = Math.max(1, ...RISKS.map((risk) => counts[risk]));
  const rowHeight = 34;
  const labelWidth = 104;
  const barSpace = 470;
  return {
    width: labelWidth + barSpace + 70,
    height: RISKS.length * rowHeight + 8,
    bars: RISKS.map((risk, i) => {
      const width = counts[risk] === 0 ? 0 : Math.max(3, Math.round((barSpace * counts[risk]) / max));
      return {
        ...riskBadge(risk),
        count: number(counts[risk]),
        y: 4 + i * rowHeight,
        textY: 4 + i * rowHeight + 19,
        labelX: labelWidth - 12,
        barX: labelWidth,
        width,
        track: barSpace,
        countX: labelWidth + width + 8,
      };
    }),
  };
}

function gauge(score: number) {
  const radius = 62;
  const circumference = 2 * Math.PI * radius;
  return {
    radius,
    circumference: circumference.toFixed(2),
    filled: ((circumference * Math.max(0, Math.min(100, score))) / 100).toFixed(2),
    color: scoreColor(score),
  };
}

function detailOf(finding: Finding, index: number) {
  return {
    number: `F-${String(index + 1).padStart(3, '0')}`,
    ...riskBadge(finding.risk),
    name: finding.name,
    location: finding.location,
    ruleId: finding.rule_id,
    engine: finding.engine,
    confidence: finding.confidence,
    description: finding.description,
    solution: finding.solution,
    evidence: finding.evidence,
    cwe: (finding.cwe ?? []).map((id) => `CWE-${id}`).join(', '),
    cve: (finding.cve ?? []).join(', '),
    cvss: finding.cvss ? finding.cvss.score.toFixed(1) : '',
    cvssVector: finding.cvss?.vector ?? '',
    references: finding.references ?? [],
    sources: (finding.sources ?? []).map((s) => `${s.engine} (${s.rule_id})`).join(', '),
    fingerprint: finding.fingerprint,
  };
}

export interface PdfOptions {
  /** The scanner's title ("Nmap (ports and services)"); default: its type. */
  readonly scannerTitle?: string;
  readonly tableLimit?: number;
  readonly detailLimit?: number;
}

/** Everything the templates show, escaped by them. */
export async function pdfView(input: ReportInput, options: PdfOptions = {}) {
  const { model, source } = input;
  const tableLimit = options.tableLimit ?? PDF_TABLE_LIMIT;
  const detailLimit = options.detailLimit ?? PDF_DETAIL_LIMIT;
  const scannerTitle = options.scannerTitle ?? model.scanner.type;
  const rows = mostSevere<{
    risk: Risk;
    order: number;
    name: string;
    location: string;
    engine: string;
    ruleId: string;
  }>(tableLimit);
  const details = mostSevere<Finding & { order: number }>(detailLimit);
  let order = 0;
  for await (const finding of input.findings()) {
    rows.add({
      risk: finding.risk,
      order,
      name: finding.name,
      location: finding.location,
      engine: finding.engine,
      ruleId: finding.rule_id,
    });
    details.add({ ...finding, order });
    order += 1;
  }
  const detailItems = details.items().map((finding, i) => detailOf(finding, i));
  const tableRows = rows.items().map((row, i) => ({
    ...row,
    ...riskBadge(row.risk),
    number: `F-${String(i + 1).padStart(3, '0')}`,
    detailed: i < detailItems.length,
  }));
  const score = model.outcome?.securityScore ?? 0;
  const riskLevel = model.outcome?.riskLevel ?? 'info';
  const total = model.findingsCount;
  return {
    title: `Security scan report: ${model.target.name}`,
    generator: GENERATOR,
    generatedAt: when(input.generatedAt),
    target: model.target,
    targetTypeLabel: { ip: 'IP address', hostname: 'Host name', url: 'Web address', range: 'Address range' }[
      model.target.type
    ],
    scanner: { ...model.scanner, title: scannerTitle },
    requestedAt: when(model.requestedAt),
    queuedAt: when(model.queuedAt),
    startedAt: when(model.startedAt),
    completedAt: when(model.endedAt),
    duration: duration(model.outcome?.durationMs),
    score: {
      value: score,
      ...gauge(score),
      level: riskBadge(riskLevel),
      vulnerabilities: number(model.outcome?.vulnerabilitiesFound ?? 0),
    },
    findingsTotal: number(total),
    summary: summaryText(input, scannerTitle),
    cards: RISKS.map((risk) => ({
      ...riskBadge(risk),
      count: number(model.findingsByRisk[risk]),
      zero: model.findingsByRisk[risk] === 0,
    })),
    chart: chart(input),
    weights: RISKS.filter((risk) => RISK_WEIGHTS[risk] > 0).map((risk) => ({
      label: RISK_LABELS[risk].toLowerCase(),
      weight: RISK_WEIGHTS[risk],
    })),
    top: detailItems.filter((d) => d.risk !== 'info').slice(0, 5),
    table: {
      rows: tableRows,
      empty: total === 0,
      truncated: total > tableRows.length,
      shown: number(tableRows.length),
      total: number(total),
      omitted: number(total - tableRows.length),
    },
    details: {
      items: detailItems,
      truncated: total > detailItems.length,
      shown: number(detailItems.length),
      total: number(total),
    },
    source: {
      stream: source.stream,
      lastRevision: source.lastRevision,
      eventCount: source.eventCount,
      digest: source.digest,
      digestShort: source.digest.slice(0, 16),
      canonicalization: DIGEST_CANONICALIZATION,
      verifyPath: `/api/v1/scans/${model.scanId}/export/verify/?digest=${source.digest}`,
    },
    scan: {
      id: model.scanId,
      attempt: model.attempt,
      workerId: model.workerId ?? '—',
      credits: model.scanner.credits,
      coverage: model.scanner.coverage,
      config: JSON.stringify(model.scanner.config, null, 2),
      result: clip(model.outcome?.scanResult ? JSON.stringify(model.outcome.scanResult, null, 2) : '', 4_000),
    },
  };
}

export type PdfView = Awaited<ReturnType<typeof pdfView>>;

/** The report's HTML (self-contained, escaped). */
export function reportHtml(view: PdfView): string {
  return templates().report(view);
}

/** The footer band of every page (Chromium fills the page numbers). */
export function footerHtml(view: PdfView): string {
  return templates().footer(view);
}

export async function pdfReport(input: ReportInput, renderer: PdfRenderer, options: PdfOptions = {}): Promise<Buffer> {
  const view = await pdfView(input, options);
  return renderer.render(reportHtml(view), {
    footerTemplate: footerHtml(view),
    tagged: view.table.rows.length <= PDF_TAGGED_ROWS,
  });
}
