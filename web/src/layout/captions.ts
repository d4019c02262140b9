// One line per shape-flow stage, in the walk-through's words: what the matrix is and why it has that shape.
import { formatDims } from './format.js';

export interface CaptionStage {
  id: string;
  name?: string;
  op: string;
  heads?: number | null;
  output: { shape: readonly number[] };
  inputs: readonly { shape: readonly number[] }[];
  weights: readonly { name: string; shape: readonly number[] }[];
}

/** The stage kind from its id: `blocks.3.attn.q` -> `attn.q`, `embed` -> `embed`. */
export function stageKind(id: string): string {
  return id.replace(/^blocks\.\d+\./, '');
}

export function caption(st: CaptionStage): string {
  const out = formatDims(st.output.shape);
  const inp = st.inputs[0] ? formatDims(st.inputs[0].shape) : '';
  const w = st.weights.find((x) => x.shape.length >= 2);
  const wd = w ? formatDims(w.shape) : '';
  const heads = st.heads ?? 1;
  switch (stageKind(st.id)) {
    case 'tokenize':
      return `The text becomes token ids, one per token: a ${out} vector.`;
    case 'embed':
      return `Each token id looks up its row of the embedding table ${wd}: one vector per token, ${out}.`;
    case 'pos_embed':
      return `A learned vector per position is added, so the same word at another place reads differently: still ${out}.`;
    case 'ln1':
    case 'ln2':
    case 'ln_final':
      return st.name?.includes('RMSNorm')
        ? `Each row is divided by its root-mean-square, then scaled: the shape stays ${out}.`
        : `Each row is normalised to mean 0 and variance 1, then scaled and shifted: the shape stays ${out}.`;
    case 'attn.q':
      return `Queries: ${inp} × ${wd} = ${out} for one head, ${heads} heads side by side. Each row asks "what am I looking for?"`;
    case 'attn.k':
      return `Keys: ${inp} × ${wd} = ${out} per head. Each row says "what do I contain?"; the scores compare queries with them.`;
    case 'attn.v':
      return `Values: ${inp} × ${wd} = ${out} per head: what each token passes on when it is attended to.`;
    case 'attn.scores':
      return `Q Kᵀ / √d_head: every query row against every key row, ${out} per head.`;
    case 'attn.mask':
      return `The causal mask sets scores of future tokens to −∞, so a token only sees itself and the tokens before it.`;
    case 'attn.softmax':
      return `Softmax over each row turns scores into weights that sum to 1: the attention pattern, ${out} per head.`;
    case 'attn.z':
      return `Softmax(Q Kᵀ/√d) × V = ${out} per head: each row is a weighted mix of the value rows.`;
    case 'attn.concat':
      return `The ${heads > 1 ? heads : ''} heads are laid side by side again: ${out}.`;
    case 'attn.o':
      return `The output projection ${wd} mixes the heads back into the residual width: ${out}.`;
    case 'resid_mid':
    case 'resid_post':
      return `The residual stream: the block adds its result to what came in, ${out}.`;
    case 'mlp.in':
      return `The MLP expands each row ${wd}: ${inp} → ${out}.`;
    case 'mlp.act':
      return `The non-linearity, value by value: ${out}.`;
    case 'mlp.out':
      return `and contracts it back ${wd}: ${out}.`;
    case 'last_row':
      return `Only the last row predicts the next token: ${out}.`;
    case 'unembed':
      return `The last row times the embedding table ${wd}ᵀ scores every token of the vocabulary: ${out} logits.`;
    case 'next_token':
      return `The highest logit (or a draw from the softmax) is the next token.`;
    default:
      return `${st.op}: ${out}.`;
  }
}

/** Why the logit lens's embedding row predicts the input token itself. */
export const EMBED_LENS_NOTE =
  'embed: before any block ran, the residual is the token’s own embedding; unembedding with the same (tied) table ' +
  'scores the token itself highest, so this row mostly predicts the input token.';
