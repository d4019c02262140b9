// The API key of a server with API_KEYS: asked for once when the server says it needs one, kept for this tab
// (sessionStorage), sent as `Authorization: Bearer` on REST calls and as a subprotocol on the stream's upgrade
// (a browser cannot set headers there; the server selects "tensortrace" and never echoes the key).
import { h } from './dom.js';

const STORE = 'tensortrace.apiKey';
const KEY_CODES = new Set(['api_key_required', 'invalid_api_key']);

export function apiKey(): string | null {
  try {
    return sessionStorage.getItem(STORE);
  } catch {
    return null; // storage disabled: no key
  }
}

/** Headers that carry the key (none without one). */
export function authHeaders(): Record<string, string> {
  const k = apiKey();
  return k ? { authorization: `Bearer ${k}` } : {};
}

const base64url = (s: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(s)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** Subprotocols for `new WebSocket(url, protocols)`: undefined without a key. */
export function streamProtocols(): string[] | undefined {
  const k = apiKey();
  return k ? ['tensortrace', `tensortrace.key.${base64url(k)}`] : undefined;
}

/** A refusal for want of a key: show the form (once) with the server's sentence. */
export function onAuthProblem(status: number, code: string, detail: string): void {
  if (status !== 401 || !KEY_CODES.has(code) || document.getElementById('key-form')) return;
  const input = h('input', {
    id: 'api-key',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'key-help',
  }) as HTMLInputElement;
  const form = h(
    'form',
    { id: 'key-form', class: 'card key-form', 'aria-labelledby': 'key-title' },
    h('h2', { id: 'key-title' }, 'This server needs an API key'),
    h('p', { id: 'key-help', class: 'help' }, `${detail} The key is kept in this tab only.`),
    h('div', { class: 'field' }, h('label', { for: 'api-key' }, 'API key'), input),
    h('button', { type: 'submit' }, 'Use this key'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const k = input.value.trim();
    if (!k) return;
    try {
      sessionStorage.setItem(STORE, k);
    } catch {
      return;
    }
    location.reload(); // every panel and the stream start again with the key
  });
  document.getElementById('main')?.prepend(form);
  input.focus();
}

/** After the stream's upgrade was refused: ask the server (a cheap GET) whether it wants a key, and show the form. */
export async function checkKey(): Promise<void> {
  const res = await fetch('/models', { headers: { accept: 'application/json', ...authHeaders() } }).catch(() => null);
  if (res?.status !== 401) return;
  const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
  onAuthProblem(401, p.code ?? '', p.detail ?? 'The server answered 401.');
}
