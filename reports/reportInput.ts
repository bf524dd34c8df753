/** What every export format is written from. */
import type { Finding } from '../domain/shared/finding.js';
import type { ReportModel } from './reportModel.js';
import type { ReportSource } from './reportSource.js';

export interface ReportInput {
  readonly model: ReportModel;
  readonly source: ReportSource;
  /** The report's findings in reported order; every call reads them afresh (a format may go through them twice). */
  readonly findings: () => AsyncIterable<Finding>;
  /** When the report is written (ISO 8601). */
  readonly generatedAt: string;
}

export const GENERATOR = 'SecAbly';
/** The version of the report formats' own shapes (JSON report, CSV columns, SARIF properties). */
export const REPORT_VERSION = 1;

/** Joins small strings into chunks of about `size` characters (fewer, larger writes). */
export async function* chunked(parts: AsyncIterable<string>, size = 64 * 1024): AsyncGenerator<string> {
  let buffer = '';
  for await (const part of parts) {
    buffer += part;
    if (buffer.length >= size) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}
