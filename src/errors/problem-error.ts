// ProblemError: a domain error that becomes an RFC 9457 problem+json response.

/**
 * Throw one of these anywhere below a route. The error handler turns it into
 * `application/problem+json` with `status`, a stable machine-readable `code`,
 * a short `title` and a `detail` sentence a person understands; `extra` fields
 * (e.g. `suggestions`, `supported`) are merged into the body.
 */
export class ProblemError extends Error {
  override name = 'ProblemError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export const badRequest = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new ProblemError(400, code, 'Bad request', detail, extra);

export const notFound = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new ProblemError(404, code, 'Not found', detail, extra);

export const conflict = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new ProblemError(409, code, 'Conflict', detail, extra);

export const payloadTooLarge = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new ProblemError(413, code, 'Payload too large', detail, extra);

export const unprocessable = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new ProblemError(422, code, 'Unprocessable entity', detail, extra);

export const tooManyRequests = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new ProblemError(429, code, 'Too many requests', detail, extra);

export const serviceUnavailable = (code: string, detail: string, extra?: Record<string, unknown>) =>
  new ProblemError(503, code, 'Service unavailable', detail, extra);
