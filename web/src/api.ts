// HTTP helpers: JSON GET/POST against the service; problem+json failures become ApiError with the server's detail.
import { authHeaders, onAuthProblem } from './api-key.js';

/** A failed request, carrying the problem+json `detail` sentence and stable `code` for the page to show. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

async function parse<T>(res: Response): Promise<T> {
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = type.includes('json') ? await res.json().catch(() => null) : await res.text().catch(() => '');
  if (res.ok) return body as T;
  const p = (body ?? {}) as { code?: unknown; detail?: unknown; title?: unknown };
  const detail =
    typeof p.detail === 'string'
      ? p.detail
      : typeof p.title === 'string'
        ? p.title
        : `The server answered ${res.status}.`;
  const code = typeof p.code === 'string' ? p.code : `http_${res.status}`;
  onAuthProblem(res.status, code, detail);
  throw new ApiError(res.status, code, detail);
}

async function request<T>(url: string, init: RequestInit, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      signal,
      headers: { accept: 'application/json', ...authHeaders(), ...(init.headers ?? {}) },
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'The server cannot be reached. Is tensortrace still running?');
  }
  return parse<T>(res);
}

export function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  return request<T>(url, { method: 'GET' }, signal);
}

export function postJson<T>(url: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return request<T>(
    url,
    { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
    signal,
  );
}

/** A sentence for any thrown value (ApiError detail, Error message, or a fallback). */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}
