/**
 * Validators for the export formats: the official SARIF 2.1.0 schema (JSON Schema
 * draft-04, test/fixtures/sarif/SOURCE.md) and our JSON report schema (draft 2020-12,
 * docs/schemas/scan-report.schema.json), formats checked (date-time, uri, uuid, …).
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Ajv04Module from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import type { ErrorObject, Options } from 'ajv';

// CommonJS modules: their `default` is what TypeScript sees; Node hands out module.exports.
type Loaded<T> = T | { readonly default: T };
const fromCommonJs = <T>(module: unknown): T => ((module as { default?: T }).default ?? module) as T;
const Ajv04 = fromCommonJs<new (options?: Options) => Ajv2020>(Ajv04Module as Loaded<unknown>);
const addFormats = fromCommonJs<(ajv: Ajv2020) => Ajv2020>(addFormatsModule as Loaded<unknown>);

const json = (path: string) => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as object;

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 10)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('\n');
}

const sarifAjv = new Ajv04({ allErrors: true, strict: false });
addFormats(sarifAjv);
const sarifValidate = sarifAjv.compile(json('../fixtures/sarif/sarif-schema-2.1.0.json'));

/** Errors of a SARIF log against the official 2.1.0 schema ('' when valid). */
export function sarifErrors(log: unknown): string {
  return sarifValidate(log) ? '' : describeErrors(sarifValidate.errors);
}

const reportAjv = new Ajv2020({ allErrors: true, strict: true });
addFormats(reportAjv);
const reportValidate = reportAjv.compile(json('../../docs/schemas/scan-report.schema.json'));

/** Errors of a JSON report against docs/schemas/scan-report.schema.json ('' when valid). */
export function scanReportErrors(report: unknown): string {
  return reportValidate(report) ? '' : describeErrors(reportValidate.errors);
}
