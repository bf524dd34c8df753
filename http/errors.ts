import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import { SecablyError, UnauthorizedError, WrongExpectedRevisionError } from '../adapters/ports.js';
import { DomainError } from '../domain/shared/decider.js';

/** An error that is already an HTTP answer: `{error, code?, details?}` with a status. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly code?: string,
    readonly details?: Record<string, unknown>,
    /** Extra top-level fields (the 402 body carries its figures at the top level). */
    readonly extra?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what = 'Not found.') => new ApiError(404, what, 'not_found');

/** Zod issues as `{fields: {"a.b": ["message", …]}}`. */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_';
    const message =
      issue.code === 'unrecognized_keys'
        ? `Unknown field(s): ${issue.keys.join(', ')}`
        : issue.code === 'invalid_type' && issue.input === undefined
          ? 'This field is required.'
          : issue.message;
    (fields[key] ??= []).push(message);
  }
  return fields;
}

export function validationError(error: z.ZodError, message = 'Invalid input.'): ApiError {
  return new ApiError(400, message, 'validation_error', { fields: fieldErrors(error) });
}

const KIND_STATUS: Record<DomainError['kind'], ContentfulStatusCode> = {
  invalid: 400,
  unauthorized: 401,
  payment_required: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 501,
};

export function errorBody(error: ApiError): Record<string, unknown> {
  return {
    error: error.message,
    ...(error.code ? { code: error.code } : {}),
    ...(error.details ? { details: error.details } : {}),
    ...error.extra,
  };
}

/** Maps any error to the documented JSON errors (spec part 2, item 6). */
export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof DomainError)
    return new ApiError(KIND_STATUS[error.kind], error.message, error.code, error.details);
  if (error instanceof UnauthorizedError) return new ApiError(401, error.message, 'unauthorized');
  if (error instanceof WrongExpectedRevisionError) {
    return new ApiError(409, 'The resource was changed concurrently; retry the request.', 'conflict');
  }
  if (error instanceof z.ZodError) return validationError(error);
  if (error instanceof HTTPException) {
    return new ApiError(error.status as ContentfulStatusCode, error.message || 'Request failed.', 'http_error');
  }
  if (error instanceof SecablyError && error.code === 'infrastructure') {
    return new ApiError(503, 'A backing service is unavailable; retry later.', 'service_unavailable');
  }
  return undefined;
}

export function sendError(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  return c.json(errorBody(error), error.status);
}

/** For answers that carry a secret (tokens, a new API key): no cache, proxy or browser may keep them. */
export const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set('Cache-Control', 'no-store');
};
