// The clean and the intervened generation side by side, token by token, the first differing token marked in both.
import { h } from '../dom.js';
import { showToken } from '../layout/format.js';

export interface Lane {
  /** Token texts as they arrived. */
  tokens: string[];
  /** The generated text so far, untrimmed (the token frames' `text`). */
  text: string;
}

export interface BothState {
  clean: Lane;
  intervened: Lane;
  /** Index of the first generated token where the two differ (a clean lane that stopped counts); null: none yet. */
  diverge: number | null;
  phase: 'running' | 'done' | 'error';
  /** A sentence under the lanes (why it ended, the error). */
  note: string;
  /** Sets put in force mid-generation: from which token, and what (in words). */
  changes: { from: number; label: string }[];
}

function lane(name: 'clean' | 'intervened', title: string, l: Lane, diverge: number | null): HTMLElement {
  const text = h('p', { class: 'both-text mono', 'aria-live': 'polite' });
  l.tokens.forEach((t, i) => {
    text.append(h('span', { class: i === diverge ? 'both-tok diverge' : 'both-tok', 'data-index': i }, t));
  });
  return h(
    'div',
    { class: 'both-lane', 'data-lane': name, 'data-text': l.text, 'data-tokens': l.tokens.length },
    h('h4', {}, title),
    text,
  );
}

/** Where the two differ, in a sentence. */
function divergence(st: BothState): string {
  const d = st.diverge;
  const running = st.phase === 'running';
  if (d === null) {
    if (st.clean.tokens.length + st.intervened.tokens.length === 0)
      return running ? 'Waiting for the first tokens…' : 'No token was generated.';
    return running ? 'The same tokens so far.' : 'Both generations wrote the same tokens.';
  }
  const a = st.clean.tokens[d];
  const b = st.intervened.tokens[d];
  return `They first differ at generated token ${d}: clean ${a === undefined ? '(stopped)' : showToken(a)}, intervened ${b === undefined ? '(stopped)' : showToken(b)} (marked ▸).`;
}

export function renderBoth(st: BothState, intervenedTitle: string): HTMLElement {
  const d = st.diverge;
  return h(
    'div',
    { class: 'both', 'data-phase': st.phase, 'data-diverge': d ?? '' },
    h(
      'div',
      { class: 'ablate-compare both-lanes' },
      lane('clean', 'Clean', st.clean, d),
      lane('intervened', intervenedTitle, st.intervened, d),
    ),
    h('p', { class: 'both-diverge help' }, divergence(st)),
    ...st.changes.map((c) =>
      h(
        'p',
        { class: 'both-change help', 'data-from': c.from },
        c.label ? `From token ${c.from} on: ${c.label}.` : `From token ${c.from} on: no intervention.`,
      ),
    ),
    st.note
      ? h(
          'p',
          { class: st.phase === 'error' ? 'status error' : 'muted', role: st.phase === 'error' ? 'alert' : undefined },
          st.note,
        )
      : '',
  );
}
