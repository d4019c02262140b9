// The running text as token chips: prompt tokens (plain) then generated tokens (buttons that select their step).
import type { RunState } from '../run-state.js';
import { h } from '../dom.js';
import { formatProb, showToken } from '../layout/format.js';

export function renderTokens(state: RunState, shown: number, onSelect: (index: number) => void): HTMLElement {
  const wrap = h('div', { class: 'token-flow' });
  const prompt = state.started?.prompt_tokens ?? [];
  const promptList = h('span', {
    class: 'prompt-tokens',
    role: 'list',
    'aria-label': `Prompt: ${prompt.length} tokens`,
  });
  for (const t of prompt) {
    promptList.append(
      h(
        'span',
        { class: 'tok prompt mono', role: 'listitem', title: `position ${t.position} · id ${t.id}` },
        showToken(t.text),
      ),
    );
  }
  wrap.append(promptList);
  const gen = h('span', {
    class: 'generated-tokens',
    role: 'group',
    'aria-label': 'Generated tokens: choose one to inspect its step',
  });
  state.tokens.forEach((t, i) => {
    if (!t) return;
    const selected = i === shown;
    gen.append(
      h(
        'button',
        {
          type: 'button',
          class: selected ? 'tok gen mono selected' : 'tok gen mono',
          'aria-pressed': selected ? 'true' : 'false',
          'aria-label': `Generated token ${i + 1}: ${JSON.stringify(t.token.text)}, probability ${formatProb(t.prob)}`,
          'data-index': i,
          'data-token-text': t.token.text,
          title: `position ${t.position} · id ${t.token.id} · p ${formatProb(t.prob)}`,
          onclick: () => onSelect(i),
        },
        showToken(t.token.text),
      ),
    );
  });
  if (state.phase === 'running') gen.append(h('span', { class: 'cursor', 'aria-hidden': 'true' }));
  wrap.append(gen);
  return wrap;
}
