/**
 * Exports of a completed scan, built from its event stream (reports/):
 *
 * - `POST /scans/{id}/export/` `{format}` and `GET /scans/{id}/export/?format=`
 *   (browsers, `curl -OJ`): `pdf`, `json`, `csv` or `sarif`, as an attachment named
 *   after the target, scanner and date. JSON, CSV and SARIF stream; the PDF is
 *   rendered whole (bounded by the renderer).
 * - `GET /scans/{id}/export/verify/?digest=`: whether a report's digest matches the
 *   events the store holds now, and which revision it covers.
 *
 * Every export carries `X-Secably-Report-Stream`, `X-Secably-Report-Revision` and
 * `X-Secably-Report-Digest`. Unknown format → 400; a scan that is not yours or does
 * not exist → 404; a scan that has not completed → 409 (with its status); PDF without
 * Chromium → 503 (the other formats still work).
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { csvReport } from '../reports/csvReport.js';
import { jsonReport } from '../reports/jsonReport.js';
import { pdfReport } from '../reports/pdfReport.js';
import { PdfBusyError, PdfTimeoutError, PdfUnavailableError } from '../reports/pdfRenderer.js';
import { DIGEST_ALGORITHM, normalizeDigest } from '../reports/reportDigest.js';
import type { ReportInput } from '../reports/reportInput.js';
import type { ReportModel } from '../reports/reportModel.js';
import { checkDigest, loadReport, reportFindings, scanOwner } from '../reports/reportSource.js';
import { sarifReport } from '../reports/sarifReport.js';
import { requireUser } from './authenticate.js';
import type { AppDeps, AppEnv } from './deps.js';
import { ApiError, notFound } from './errors.js';
import { jsonBody, pathId, queryParams } from './validation.js';

export const EXPORT_FORMATS = ['pdf', 'json', 'csv', 'sarif'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const FORMAT_TYPES: Readonly<Record<ExportFormat, { contentType: string; extension: string }>> = {
  pdf: { contentType: 'application/pdf', extension: 'pdf' },
  json: { contentType: 'application/json; charset=utf-8', extension: 'json' },
  csv: { contentType: 'text/csv; charset=utf-8; header=present', extension: 'csv' },
  sarif: { contentType: 'application/sarif+json; charset=utf-8', extension: 'sarif' },
};

const format = z.enum(EXPORT_FORMATS, { error: `format must be one of ${EXPORT_FORMATS.join(', ')}` });
export const ExportBody = z.object({ format }).strict();
export const ExportQuery = z.object({ format }).strict();
export const VerifyQuery = z.object({ digest: z.string().max(200) }).strict();

/** "example.com", "https://example.com/app" → "example.com-app": letters, digits, dots and dashes. */
function slug(text: string, max = 60): string {
  const cleaned = text
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return cleaned.slice(0, max).replace(/[-.]+$/, '') || 'target';
}

/** secably-<target>-<scanner>-<date completed>-<scan id prefix>.<ext> */
export function exportFileName(model: ReportModel, extension: string): string {
  const date = (model.endedAt ?? model.requestedAt).slice(0, 10);
  return `secably-${slug(model.target.value)}-${slug(model.scanner.type, 32)}-${date}-${model.scanId.slice(0, 8)}.${extension}`;
}

/** An async iterable of text as a pulled (back-pressured) byte stream. */
function byteStream(parts: AsyncIterable<string>, onError: (error: unknown) => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = parts[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      } catch (error) {
        onError(error);
        controller.error(error);
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

function statusConflict(model: ReportModel): ApiError {
  const details: Record<string, unknown> = { status: model.status };
  if (model.status === 'failed' && model.failure) details.error = model.failure;
  const why =
    model.status === 'failed'
      ? 'The scan failed'
      : model.status === 'cancelled'
        ? 'The scan was cancelled'
        : `The scan has not finished (${model.status})`;
  return new ApiError(409, `${why}; only completed scans can be exported.`, 'scan_not_completed', details);
}

export function exportsRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  /** The scan's owner is checked on its first event before anything else is read. */
  async function ownedScanId(c: Context<AppEnv>): Promise<string> {
    const { userId } = requireUser(c);
    const scanId = pathId(c);
    if ((await scanOwner(deps.store, scanId)) !== userId) throw notFound('Scan not found.');
    return scanId;
  }

  async function exportScan(c: Context<AppEnv>, scanId: string, chosen: ExportFormat): Promise<Response> {
    const { model, source } = await loadReport(deps.store, scanId);
    if (model.status !== 'completed') throw statusConflict(model);
    const input: ReportInput = {
      model,
      source,
      findings: () => reportFindings(deps.store, model),
      generatedAt: deps.clock.now().toISOString(),
    };
    const { contentType, extension } = FORMAT_TYPES[chosen];
    const headers: Record<string, string> = {
      'Content-Type': contentType,
      'Content-Disposition': `attachment; filename="${exportFileName(model, extension)}"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Secably-Report-Stream': source.stream,
      'X-Secably-Report-Revision': String(source.lastRevision),
      'X-Secably-Report-Digest': source.digest,
    };
    // Through the context, so the rate-limit headers the limiters prepared are kept.
    if (chosen === 'pdf') {
      const pdf = await renderPdf(c, input);
      headers['Content-Length'] = String(pdf.length);
      return c.body(new Uint8Array(pdf) as Uint8Array<ArrayBuffer>, 200, headers);
    }
    const writer = chosen === 'json' ? jsonReport : chosen === 'csv' ? csvReport : sarifReport;
    const body = byteStream(writer(input), (error) =>
      deps.logger.error({ err: error, reqId: c.get('requestId'), scanId }, 'export failed while streaming'),
    );
    return c.body(body, 200, headers);
  }

  async function renderPdf(c: Context<AppEnv>, input: ReportInput): Promise<Buffer> {
    try {
      return await pdfReport(input, deps.pdfRenderer, {
        scannerTitle: deps.scanners.get(input.model.scanner.type)?.title ?? input.model.scanner.type,
      });
    } catch (error) {
      if (error instanceof PdfUnavailableError) {
        deps.logger.warn({ err: error, reqId: c.get('requestId') }, 'pdf export unavailable');
        throw new ApiError(
          503,
          'PDF export is unavailable on this server: no Chromium browser to render it. The json, csv and sarif formats work.',
          'pdf_unavailable',
        );
      }
      if (error instanceof PdfBusyError) {
        throw new ApiError(503, error.message, 'pdf_busy', undefined, undefined, {
          'Retry-After': String(error.retryAfterSeconds),
        });
      }
      if (error instanceof PdfTimeoutError) {
        deps.logger.warn({ err: error, reqId: c.get('requestId') }, 'pdf render timed out');
        throw new ApiError(503, `${error.message} Retry later, or export json, csv or sarif.`, 'pdf_timeout');
      }
      throw error;
    }
  }

  app.post('/scans/:id/export', async (c) => {
    const scanId = await ownedScanId(c);
    const body = await jsonBody(c, ExportBody);
    return exportScan(c, scanId, body.format);
  });

  app.get('/scans/:id/export', async (c) => {
    const scanId = await ownedScanId(c);
    const query = queryParams(c, ExportQuery);
    return exportScan(c, scanId, query.format);
  });

  app.get('/scans/:id/export/verify', async (c) => {
    const scanId = await ownedScanId(c);
    const query = queryParams(c, VerifyQuery);
    const digest = normalizeDigest(query.digest);
    if (!digest) {
      throw new ApiError(400, 'Invalid query parameters.', 'validation_error', {
        fields: { digest: ['must be a SHA-256 digest: 64 hexadecimal digits'] },
      });
    }
    const check = await checkDigest(deps.store, scanId, digest);
    return c.json({
      scan_id: scanId,
      stream: `scan-${scanId}`,
      digest,
      digest_algorithm: DIGEST_ALGORITHM,
      matches: check.matches,
      covers_revision: check.revision,
      last_revision: check.lastRevision,
      current: check.matches && check.revision === check.lastRevision,
      checked_at: deps.clock.now().toISOString(),
      message: check.matches
        ? check.revision === check.lastRevision
          ? 'The digest matches the events the store holds now (the whole stream).'
          : `The digest matches the events up to revision ${check.revision}; the stream has grown since.`
        : 'The digest does not match the events the store holds: the report was not built from them.',
    });
  });

  return app;
}
