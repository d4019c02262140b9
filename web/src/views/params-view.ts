// Parameter breakdown of an architecture: per component, the named totals and the memory at common dtypes.
import type { z } from 'zod';
import type { ParamsReportSchema } from '../../../src/schemas/models.js';
import { h } from '../dom.js';
import { formatCompact, formatCount } from '../layout/format.js';

type ParamsReport = z.infer<typeof ParamsReportSchema>;

const COMPONENT_LABELS: Record<string, string> = {
  token_embedding: 'Token embedding (W_E)',
  position_embedding: 'Position embedding (W_pos)',
  attention: 'Attention (W_Q, W_K, W_V, W_O)',
  mlp: 'MLP',
  routed_experts: 'Routed experts',
  shared_experts: 'Shared experts',
  router: 'Router',
  norm: 'Norms in the blocks',
  final_norm: 'Final norm',
  lm_head: 'Unembedding (W_U)',
};

export function renderParams(report: ParamsReport): HTMLElement {
  const rows = Object.entries(report.breakdown).filter(([, n]) => n > 0);
  const table = h(
    'table',
    { class: 'params-table', 'aria-label': 'Parameter count per component' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'component'),
        h('th', { scope: 'col', class: 'num' }, 'parameters'),
        h('th', { scope: 'col', class: 'num' }, 'share'),
      ),
    ),
    h(
      'tbody',
      {},
      ...rows.map(([c, n]) =>
        h(
          'tr',
          {},
          h(
            'td',
            {},
            COMPONENT_LABELS[c] ?? c,
            c === 'token_embedding' && report.tied_embeddings ? ' — tied, also the unembedding' : '',
          ),
          h('td', { class: 'num', title: formatCompact(n) }, formatCount(n)),
          h('td', { class: 'num' }, `${((n / report.total) * 100).toFixed(1)}%`),
        ),
      ),
    ),
    h(
      'tfoot',
      {},
      h(
        'tr',
        {},
        h('td', {}, 'Total'),
        h('td', { class: 'num', 'data-total': report.total }, formatCount(report.total)),
        h('td', { class: 'num' }, formatCompact(report.total)),
      ),
    ),
  );
  const c = report.conventions;
  const facts: [string, number][] = [
    ['non-embedding (nanoGPT)', c.non_embedding],
    ['excluding embeddings and head', c.excluding_embeddings],
    ['hidden weight matrices (TransformerLens n_params)', c.hidden_only],
  ];
  if (report.active !== null) facts.unshift(['active per token (MoE)', report.active]);
  const list = h(
    'dl',
    { class: 'facts' },
    ...facts.flatMap(([k, v]) => [
      h('dt', {}, k),
      h('dd', { class: 'mono' }, `${formatCount(v)} (${formatCompact(v)})`),
    ]),
    h('dt', {}, 'weights in memory'),
    h(
      'dd',
      { class: 'mono' },
      report.memory.map((m) => `${m.dtype} ${m.gib.toFixed(m.gib < 10 ? 2 : 1)} GiB`).join(' · '),
    ),
  );
  return h('div', { class: 'params' }, h('div', { class: 'table-scroll' }, table), list);
}
