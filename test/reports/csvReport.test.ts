import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { Finding, ScannerFinding } from '../../domain/shared/finding.js';
import { csvCellValue, CSV_COLUMNS, csvReport, neutralizeCell } from '../../reports/csvReport.js';
import { inputOf, manyFindings, sampleFindings, scanStream, textOf } from './scanStream.js';

/** A CSV row read back into a finding (the inverse of the documented column mapping). */
function findingOf(row: Record<string, string>): Finding {
  const value = (column: string) => csvCellValue(row[column] ?? '');
  const list = (column: string, separator: string) => (value(column) ? value(column).split(separator) : undefined);
  const finding: Record<string, unknown> = {
    name: value('name'),
    risk: value('risk'),
    description: value('description'),
    solution: value('solution'),
    evidence: value('evidence'),
    location: value('location'),
    rule_id: value('rule_id'),
    engine: value('engine'),
    confidence: value('confidence'),
  };
  const cwe = list('cwe', '; ');
  if (cwe) finding.cwe = cwe.map((id) => Number(id.replace('CWE-', '')));
  const cve = list('cve', '; ');
  if (cve) finding.cve = cve;
  if (value('cvss_score')) {
    finding.cvss = {
      score: Number(value('cvss_score')),
      ...(value('cvss_vector') ? { vector: value('cvss_vector') } : {}),
    };
  }
  const references = list('references', '\n');
  if (references) finding.references = references;
  const sources = list('sources', '\n');
  if (sources)
    finding.sources = sources.map((s) => ({ engine: s.split(' ')[0], rule_id: s.split(' ').slice(1).join(' ') }));
  finding.fingerprint = value('fingerprint');
  return finding as Finding;
}

const tricky: ScannerFinding[] = [
  {
    name: '=HYPERLINK("http://127.0.0.1/x","click")',
    risk: 'high',
    description: 'Comma, "quotes", and\nnew lines\r\nof every kind; non-ASCII: é ü 漢字 🙂',
    solution: '+1 -1 @SUM(A1)',
    evidence: '\tstarts with a tab',
    location: '-negative',
    rule_id: '@rule',
    engine: 'canned',
    references: ["'quoted already", 'https://example.com/a,b'],
  },
  {
    name: "'apostrophe first",
    risk: 'low',
    description: '\rcarriage return first',
    solution: '',
    location: 'x',
    rule_id: 'r',
    engine: 'canned',
  },
];

describe('the CSV export', () => {
  it('parses back (with a CSV library) into exactly the findings', async () => {
    const { events, findings } = scanStream([...sampleFindings(), ...tricky]);
    const input = inputOf(events);
    const text = await textOf(csvReport(input));
    expect(text.startsWith('\uFEFFrisk,name,location,')).toBe(true);
    const rows = parse(text, { bom: true, columns: true, relax_column_count: false }) as Record<string, string>[];
    expect(rows).toHaveLength(findings.length);
    expect(Object.keys(rows[0]!)).toEqual([...CSV_COLUMNS]);
    expect(rows.map(findingOf)).toEqual(findings);
    for (const row of rows) {
      expect(row).toMatchObject({
        report_stream: input.source.stream,
        report_revision: String(input.source.lastRevision),
        report_digest: input.source.digest,
        scan_id: input.model.scanId,
        target: 'example.com',
        scanner_type: 'echo',
      });
    }
  });

  it('neutralises cells a spreadsheet would run as a formula', async () => {
    const { events } = scanStream(tricky);
    const text = await textOf(csvReport(inputOf(events)));
    const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows[0]!.name).toBe(`'=HYPERLINK("http://127.0.0.1/x","click")`);
    expect(rows[0]!.solution).toBe("'+1 -1 @SUM(A1)");
    expect(rows[0]!.evidence).toBe("'\tstarts with a tab");
    expect(rows[0]!.location).toBe("'-negative");
    expect(rows[0]!.rule_id).toBe("'@rule");
    expect(rows[1]!.description).toBe("'\rcarriage return first");
    expect(rows[1]!.name).toBe("''apostrophe first");
    // No cell of the raw file starts with a formula character.
    const cells = (parse(text, { bom: true }) as string[][]).flat();
    for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    for (const start of ['=', '+', '-', '@', '\t', '\r', "'"]) expect(neutralizeCell(`${start}x`)).toBe(`'${start}x`);
    expect(neutralizeCell('plain')).toBe('plain');
  });

  it('quotes per RFC 4180 and ends every record with CRLF', async () => {
    const { events } = scanStream(tricky);
    const text = await textOf(csvReport(inputOf(events)));
    expect(text).toContain('"\'=HYPERLINK(""http://127.0.0.1/x"",""click"")"');
    const outside = text.replace(/"(?:[^"]|"")*"/g, '');
    expect(outside.split('\r\n').length).toBe(3 + 1);
    expect(outside).not.toMatch(/[^\r]\n/);
    expect(text.endsWith('\r\n')).toBe(true);
  });

  it('a scan without findings: the header row alone', async () => {
    const { events } = scanStream([]);
    expect(await textOf(csvReport(inputOf(events)))).toBe(`\uFEFF${CSV_COLUMNS.join(',')}\r\n`);
  });

  it('streams 20,000 findings', async () => {
    const { events, findings } = scanStream(manyFindings(20_000), { batchSize: 1000 });
    let chunks = 0;
    let text = '';
    for await (const chunk of csvReport(inputOf(events))) {
      chunks += 1;
      text += chunk;
    }
    expect(chunks).toBeGreaterThan(20);
    const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(20_000);
    expect(rows[19_999]!.fingerprint).toBe(findings[19_999]!.fingerprint);
  });
});
