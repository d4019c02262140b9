// The one error handler: every failure leaves as application/problem+json with a stable code.
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { badRequest, ProblemError } from './problem-error.js';
import { describeIssues } from './zod-words.js';
import { didYouMeanPhrase, keysAt, suggestKeys } from './unknown-keys.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance: string;
  request_id: string;
  [extra: string]: unknown;
}

function body(
  request: FastifyRequest,
  status: number,
  code: string,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
): ProblemBody {
  return {
    ...extra,
    type: `/problems/${code}`,
    title,
    status,
    code,
    detail,
    instance: request.url.split('?')[0] ?? request.url,
    request_id: String(request.id),
  };
}

/** Replies stay small whatever the input: at most this many issues, each message at most this long. */
const MAX_ISSUES = 20;
const MAX_MESSAGE_CHARS = 300;

function shorten(message: string): string {
  return message.length <= MAX_MESSAGE_CHARS ? message : `${message.slice(0, MAX_MESSAGE_CHARS)}… (shortened)`;
}

/** Send a problem+json reply (also used by the 404 handler and the WebSocket route's upgrade checks). */
export function sendProblem(reply: FastifyReply, problem: ProblemBody): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Map Fastify's own client errors (bad JSON, wrong content type, huge body) to stable codes. */
const FASTIFY_CODES: Record<string, { code: string; title: string; detail: (e: FastifyError) => string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: 'invalid_json',
    title: 'Bad request',
    detail: () => 'The request body is not valid JSON.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'empty_body',
    title: 'Bad request',
    detail: () => 'The request declares a JSON body but sent none.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    title: 'Unsupported media type',
    detail: () => 'Send the request body as application/json.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'invalid_content_length',
    title: 'Bad request',
    detail: () => 'The Content-Length header does not match the body.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'body_too_large',
    title: 'Payload too large',
    detail: () => 'The request body is larger than the server accepts.',
  },
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | ProblemError | ZodError, request, reply) => {
    if (error instanceof ProblemError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
      return sendProblem(reply, body(request, error.statusCode, error.code, error.title, error.detail, error.extra));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[where];
      const issues = error.validation.slice(0, MAX_ISSUES).map((v) => {
        const path = `${where}${v.instancePath.replaceAll('/', '.').replace(/\.$/, '')}`;
        const keys = (v.params as { keys?: unknown } | undefined)?.keys;
        if (v.keyword !== 'unrecognized_keys' || !Array.isArray(keys)) {
          return { path, message: shorten(v.message ?? 'is invalid') };
        }
        const at = v.instancePath
          .split('/')
          .filter(Boolean)
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
        const suggestions = suggestKeys(schema, at, keys.map(String));
        return {
          path,
          message: shorten(`${v.message ?? 'unknown field'}${didYouMeanPhrase(suggestions)}`),
          suggestions,
        };
      });
      const more = error.validation.length - issues.length;
      const detail = issues.map((i) => `${i.path}: ${i.message}`).join('; ') + (more > 0 ? `; and ${more} more` : '');
      return sendProblem(
        reply,
        body(request, 400, 'invalid_request', 'Bad request', detail, { issues, issues_total: error.validation.length }),
      );
    }
    if (error instanceof ZodError) {
      const detail = shorten(describeIssues(error.issues.slice(0, MAX_ISSUES)));
      return sendProblem(reply, body(request, 400, 'invalid_request', 'Bad request', detail));
    }
    const fe = error as FastifyError;
    const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (known) return sendProblem(reply, body(request, status, known.code, known.title, known.detail(fe)));
    if (status >= 400 && status < 500) {
      return sendProblem(
        reply,
        body(request, status, 'bad_request', 'Bad request', fe.message || 'The request is invalid.'),
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      reply,
      body(
        request,
        500,
        'internal_error',
        'Internal server error',
        'Something went wrong on our side; the error was logged.',
      ),
    );
  });

  // Unknown query parameters are refused like unknown body fields (documented API routes; /docs assets are not).
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema as { tags?: unknown; querystring?: unknown } | undefined;
    if (!schema?.tags) return;
    const given = Object.keys((request.query as Record<string, unknown> | undefined) ?? {});
    if (given.length === 0) return;
    const known = schema.querystring ? keysAt(schema.querystring) : [];
    const unknown = given.filter((k) => !known.includes(k));
    if (unknown.length === 0) return;
    const suggestions = suggestKeys(schema.querystring, [], unknown);
    const names = unknown.slice(0, 10).map((k) => `"${k.slice(0, 100)}"`);
    throw badRequest(
      'invalid_request',
      `querystring: unknown parameter${unknown.length > 1 ? 's' : ''} ${names.join(', ')}${didYouMeanPhrase(suggestions)}; ` +
        (known.length
          ? `this route accepts ${known.map((k) => `"${k}"`).join(', ')}.`
          : 'this route takes no query parameters.'),
      { issues: [{ path: 'querystring', message: `Unrecognized keys: ${names.join(', ')}`, suggestions }] },
    );
  });

  const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    // The path exists under another method: 405 with Allow, saying which method to use.
    const allowed = METHODS.filter((m) => m !== request.method && app.hasRoute({ method: m, url: path }));
    if (allowed.length) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(
        reply,
        body(
          request,
          405,
          'method_not_allowed',
          'Method not allowed',
          `${path} does not answer ${request.method.slice(0, 10)}: use ${allowed.join(' or ')}` +
            (allowed.includes('POST') ? ' with a JSON body (see /docs).' : '.'),
          { allow: allowed },
        ),
      );
    }
    return sendProblem(
      reply,
      body(request, 404, 'route_not_found', 'Not found', `There is no route ${request.method} ${path}.`),
    );
  });
}

/** Fastify's routing-time errors (a URL that is not valid percent-encoding) as problem+json. */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const badUrl = error.code === 'FST_ERR_BAD_URL';
  sendProblem(
    reply,
    body(
      request,
      400,
      badUrl ? 'bad_url' : 'bad_request',
      'Bad request',
      badUrl
        ? 'The URL is not valid percent-encoding (each % must start a UTF-8 sequence, e.g. %2F for "/").'
        : 'The request could not be routed.',
    ),
  );
}

const CLIENT_ERRORS: Record<string, { status: number; code: string; title: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'headers_too_large',
    title: 'Request header fields too large',
    detail: 'The request line or headers are larger than the server accepts (16 KiB): shorten the URL or the headers.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'request_timeout',
    title: 'Request timeout',
    detail:
      'The request (headers and body) was not received within REQUEST_TIMEOUT_MS; the connection is closed. Send the whole request at once.',
  },
};

/** Errors Node's HTTP parser raises before Fastify sees a request: answered as problem+json on the raw socket. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  const known = (err.code && CLIENT_ERRORS[err.code]) || {
    status: 400,
    code: 'malformed_request',
    title: 'Bad request',
    detail: 'The HTTP request could not be parsed.',
  };
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const payload = JSON.stringify({
    type: `/problems/${known.code}`,
    title: known.title,
    status: known.status,
    code: known.code,
    detail: known.detail,
  });
  socket.end(
    `HTTP/1.1 ${known.status} ${known.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(payload)}\r\nConnection: close\r\n\r\n${payload}`,
  );
}
