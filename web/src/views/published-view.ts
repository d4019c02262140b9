// Published counts and their source beside the computed ones, naming the convention that matches.
import { h } from '../dom.js';
import { formatCompact, formatCount } from '../layout/format.js';
import { type Computed, comparePublished, formatRelDiff } from '../layout/published.js';

const CONVENTION_TEXT: Record<string, string> = {
  total: 'every parameter',
  active: 'active per token, all weights used (embedding included)',
  active_non_embedding: 'active per token without the embedding table (the unembedding counts)',
};

export function renderPublished(
  published: { total: number | null; active: number | null },
  computed: Computed,
  source: string | undefined,
): HTMLElement {
  const rows = comparePublished(published, computed);
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No published count for this architecture.');
  return h(
    'div',
    { class: 'published' },
    h(
      'dl',
      { class: 'facts' },
      ...rows.flatMap((r) => [
        h('dt', {}, `published ${r.label}`),
        h(
          'dd',
          { class: 'mono', 'data-convention': r.convention, 'data-published': r.published },
          `${formatCompact(r.published)} — computed ${formatCount(r.computed)} (${formatCompact(r.computed)}, ${formatRelDiff(r.relDiff)}) as ${r.convention}: ${CONVENTION_TEXT[r.convention]}`,
        ),
      ]),
    ),
    source ? h('p', { class: 'help source' }, `Source: ${source}`) : null,
  );
}
