/**
 * The CSV export: one row per finding under a header row (RFC 4180: CRLF line
 * ends, a cell quoted when it holds a comma, a quote, CR or LF, quotes doubled),
 * UTF-8 with a byte order mark (so spreadsheets read it as UTF-8).
 *
 * Formula injection: a cell whose text starts with `=`, `+`, `-`, `@`, TAB or CR is
 * what spreadsheets run as a formula; such a cell is written with a leading `'`
 * (the apostrophe spreadsheets take as "text", not shown). So that the value can be
 * recovered exactly, a cell that itself starts with `'` gets one too: strip one
 * leading `'` from a cell that starts with it to read the value back (`csvCellValue`).
 *
 * Provenance: every row ends with `report_stream`, `report_revision` and
 * `report_digest` (the events the report was built from): the file stays plain RFC
 * 4180 (no comment or trailer line a CSV reader would take as a finding) and a row
 * keeps its provenance when a spreadsheet sorts or filters it. The response also
 * carries them as headers (`X-Secably-Report-Digest`, …), which is where they are for
 * a scan without findings (whose CSV is the header row alone).
 *
 * Lists: `cwe` and `cve` are joined with "; " ("CWE-79; CWE-89"), `references` and
 * `sources` (other engines that found it, as "engine rule_id") with line feeds.
 */
import type { Finding } from '../domain/shared/finding.js';
import { chunked, type ReportInput } from './reportInput.js';

export const CSV_COLUMNS = [
  'risk',
  'name',
  'location',
  'rule_id',
  'engine',
  'confidence',
  'cvss_score',
  'cvss_vector',
  'cwe',
  'cve',
  'description',
  'solution',
  'evidence',
  'references',
  'sources',
  'fingerprint',
  'scan_id',
  'target',
  'scanner_type',
  'report_stream',
  'report_revision',
  'report_digest',
] as const;

const FORMULA_START = /^[=+\-@\t\r']/;

/** A value as a safe cell text: formula starts neutralised with a leading apostrophe. */
export function neutralizeCell(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** The value of a cell read back from our CSV (the inverse of neutralizeCell). */
export function csvCellValue(cell: string): string {
  return cell.startsWith("'") ? cell.slice(1) : cell;
}

/** RFC 4180 quoting. */
export function quoteCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(cells: readonly string[]): string {
  return `${cells.map((cell) => quoteCell(neutralizeCell(cell))).join(',')}\r\n`;
}

/** A finding's cells, in CSV_COLUMNS order. */
export function findingCells(finding: Finding, input: Pick<ReportInput, 'model' | 'source'>): string[] {
  const { model, source } = input;
  return [
    finding.risk,
    finding.name,
    finding.location,
    finding.rule_id,
    finding.engine,
    finding.confidence,
    finding.cvss ? String(finding.cvss.score) : '',
    finding.cvss?.vector ?? '',
    (finding.cwe ?? []).map((id) => `CWE-${id}`).join('; '),
    (finding.cve ?? []).join('; '),
    finding.description,
    finding.solution,
    finding.evidence,
    (finding.references ?? []).join('\n'),
    (finding.sources ?? []).map((s) => `${s.engine} ${s.rule_id}`).join('\n'),
    finding.fingerprint,
    model.scanId,
    model.target.value,
    model.scanner.type,
    source.stream,
    String(source.lastRevision),
    source.digest,
  ];
}

async function* parts(input: ReportInput): AsyncGenerator<string> {
  yield `\uFEFF${csvRow(CSV_COLUMNS)}`;
  for await (const finding of input.findings()) yield csvRow(findingCells(finding, input));
}

export function csvReport(input: ReportInput): AsyncIterable<string> {
  return chunked(parts(input));
}
