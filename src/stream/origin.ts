// Which pages may open the stream: the browser's `Origin` header on the WebSocket upgrade.
// Browsers send it on every WebSocket handshake and a page cannot forge it; the same-origin policy does not apply
// to WebSockets, so without this check any site a user visits could drive ws://localhost:8080/stream.

/**
 * Allowed: no `Origin` (not a browser: curl, the CLI, scripts), the page's own origin (Origin's host:port equals the
 * `Host` the request was sent to), or an origin on the allow-list (exact `scheme://host[:port]`, or `*` for any).
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowList: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allowList.includes('*')) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (sandboxed frames, file://) and anything unparsable
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && host !== undefined) {
    if (url.host === host.toLowerCase()) return true;
  }
  return allowList.some((allowed) => {
    try {
      return new URL(allowed).origin === url.origin;
    } catch {
      return false;
    }
  });
}
