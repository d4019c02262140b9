// Published parameter counts next to the computed ones: which "active" convention the vendor's figure follows.

export interface Computed {
  total: number;
  active: number | null;
  active_non_embedding: number | null;
}

export interface Comparison {
  label: string;
  published: number;
  computed: number;
  /** Which computed convention it is compared with: total, active (all weights used per token) or active_non_embedding. */
  convention: 'total' | 'active' | 'active_non_embedding';
  /** computed / published − 1. */
  relDiff: number;
}

const rel = (computed: number, published: number) => computed / published - 1;

/**
 * The total against the computed total; the published active count against whichever computed convention is closer
 * (e.g. gpt-oss-20b's 3.61B is `active_non_embedding`: the unembedding counts, the embedding table does not).
 */
export function comparePublished(
  published: { total: number | null; active: number | null },
  c: Computed,
): Comparison[] {
  const out: Comparison[] = [];
  if (published.total !== null)
    out.push({
      label: 'total',
      published: published.total,
      computed: c.total,
      convention: 'total',
      relDiff: rel(c.total, published.total),
    });
  if (published.active !== null) {
    const options: Comparison[] = [];
    if (c.active !== null)
      options.push({
        label: 'active',
        published: published.active,
        computed: c.active,
        convention: 'active',
        relDiff: rel(c.active, published.active),
      });
    if (c.active_non_embedding !== null)
      options.push({
        label: 'active',
        published: published.active,
        computed: c.active_non_embedding,
        convention: 'active_non_embedding',
        relDiff: rel(c.active_non_embedding, published.active),
      });
    options.sort((a, b) => Math.abs(a.relDiff) - Math.abs(b.relDiff));
    if (options[0]) out.push(options[0]);
  }
  return out;
}

/** +0.03% / −1.2%: the computed count relative to the published one. */
export function formatRelDiff(x: number): string {
  const pct = x * 100;
  if (Math.abs(pct) < 0.005) return '±0%';
  const digits = Math.abs(pct) < 1 ? 2 : 1;
  return `${pct > 0 ? '+' : '−'}${Math.abs(pct).toFixed(digits)}%`;
}
