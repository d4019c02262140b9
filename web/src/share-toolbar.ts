// The share toolbar: the page state in the URL, and buttons to copy a link, save and share a trace (/?trace=ID),
// copy a curl command or a Python snippet, and download the prompt pass as .safetensors.
import type { SaveTraceResponse } from '../../src/schemas/traces.js';
import { ApiError, describeError, getJson, postJson } from './api.js';
import { authHeaders } from './api-key.js';
import { byId, h } from './dom.js';
import type { RunState } from './run-state.js';
import { curlCommand, exportBody, pythonSnippet, traceBody } from './share/snippets.js';
import { savedToRun, type SavedTraceView } from './share/trace-to-run.js';
import { type PageState, stateFromQuery, stateToQuery } from './share/url-state.js';

export interface ShareHost {
  /** The page's state now (form, selection; `trace` when a saved trace is on screen). */
  state(): PageState;
  /** Put a run on screen (a saved trace, drawn as stored). */
  showRun(run: RunState, state: PageState): void;
  status(kind: 'busy' | 'ok' | 'error', text: string): void;
}

let host: ShareHost | null = null;

/** The link for a state: this page's origin and path, the state as the query. */
export function linkFor(state: PageState): string {
  return `${location.origin}${location.pathname}${stateToQuery(state)}`;
}

/** Keep the address bar in step with the page (no history entry per change). */
export function syncUrl(): void {
  if (!host) return;
  const q = stateToQuery(host.state());
  if (q !== location.search) history.replaceState(null, '', `${location.pathname}${q}`);
}

/** The state the page was opened with. */
export function initialState(): PageState {
  return stateFromQuery(location.search);
}

function show(label: string, text: string): void {
  const area = h('textarea', {
    id: 'share-text',
    class: 'mono',
    readonly: '',
    rows: String(Math.min(8, text.split('\n').length + 1)),
  });
  area.value = text;
  byId('share-out').replaceChildren(h('label', { for: 'share-text' }, label), area);
}

/** Copy to the clipboard when the browser allows it; the text is shown either way (select it to copy by hand). */
async function copy(label: string, text: string): Promise<void> {
  show(label, text);
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch {
    (document.getElementById('share-text') as HTMLTextAreaElement | null)?.select();
  }
  host?.status('ok', copied ? `${label} copied to the clipboard.` : `${label} shown below (select it to copy).`);
}

async function download(url: string, init: RequestInit, fileName: string): Promise<void> {
  host?.status('busy', 'Preparing the .safetensors file…');
  const res = await fetch(url, { ...init, headers: { ...authHeaders(), ...(init.headers as Record<string, string>) } });
  if (!res.ok) {
    const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
    throw new ApiError(res.status, p.code ?? `http_${res.status}`, p.detail ?? `The server answered ${res.status}.`);
  }
  const blob = await res.blob();
  const a = h('a', { href: URL.createObjectURL(blob), download: fileName, id: 'share-file' });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 60_000);
  host?.status('ok', `Downloaded ${fileName} (${blob.size.toLocaleString('en-US')} bytes).`);
}

async function saveAndShare(): Promise<void> {
  if (!host) return;
  const state = host.state();
  if (!state.prompt?.trim()) throw new Error('Type a prompt first.');
  host.status('busy', 'Saving the trace…');
  const saved = await postJson<SaveTraceResponse>('/traces', traceBody(state));
  const link = linkFor({ trace: saved.id, layer: state.layer, token: state.token, head: state.head });
  history.replaceState(null, '', link.slice(location.origin.length));
  await copy('Share link', link);
  host.status('ok', `Saved as ${saved.id}: the link opens it as stored, without recomputing.`);
}

/** Open `/?trace=ID`: fetch the stored reply and draw it. */
export async function openSavedTrace(id: string, selection: PageState): Promise<void> {
  if (!host) return;
  host.status('busy', `Opening saved trace ${id}…`);
  const saved = await getJson<SavedTraceView & { created_at: string }>(`/traces/${encodeURIComponent(id)}`);
  const req = saved.recipe.request as { prompt?: string; model?: string; max_new_tokens?: number };
  const state: PageState = {
    ...selection,
    trace: id,
    prompt: req.prompt,
    model: saved.recipe.model,
    max_new_tokens: req.max_new_tokens,
    interventions: (saved.recipe.request as PageState).interventions,
  };
  host.showRun(savedToRun(saved, `saved-${id}`), state);
  host.status('ok', `Saved trace ${id} (${saved.created_at}), shown as stored: press Run to recompute it live.`);
}

function guard(fn: () => Promise<void>): () => void {
  return () => {
    fn().catch((err: unknown) => host?.status('error', describeError(err)));
  };
}

export function initShareToolbar(h0: ShareHost): void {
  host = h0;
  byId('share-link').addEventListener(
    'click',
    guard(() => copy('Link', linkFor(h0.state()))),
  );
  byId('share-save').addEventListener('click', guard(saveAndShare));
  byId('share-curl').addEventListener(
    'click',
    guard(() => copy('curl command', curlCommand(location.origin, h0.state()))),
  );
  byId('share-python').addEventListener(
    'click',
    guard(() => copy('Python', pythonSnippet(location.origin, h0.state()))),
  );
  byId('share-download').addEventListener(
    'click',
    guard(() => {
      const s = h0.state();
      if (s.trace)
        return download(`/traces/${encodeURIComponent(s.trace)}/tensors`, {}, `trace-${s.trace}.safetensors`);
      return download(
        '/trace',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/vnd.safetensors' },
          body: JSON.stringify(exportBody(s)),
        },
        'trace.safetensors',
      );
    }),
  );
}
