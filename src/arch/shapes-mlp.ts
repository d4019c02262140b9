// MLP stages of one layer: plain (up, act, down), gated (gate, up, act*up, down) or MoE (router, top-k, experts, shared, combine).
import type { ArchSpec } from './spec.js';
import {
  data,
  elements,
  matmulFlops,
  stage,
  type BuiltStage,
  type Op,
  type StageCtx,
  type TensorRef,
} from './stage.js';

const ref = (name: string, shape: number[]): TensorRef => ({ name, shape });

const actOp = (act: string): Op =>
  act.startsWith('gelu') ? 'gelu' : act === 'silu' || act === 'swish' ? 'silu' : 'act';

/**
 * A dense MLP over `rows` token rows. `w` weights prefix (e.g. "mlp", "mlp.shared"), `width` its hidden size.
 * Returns stages and the output ref [rows, d_model].
 */
function mlp(
  spec: ArchSpec,
  ctx: StageCtx,
  rows: number,
  x: TensorRef,
  opts: {
    key: string;
    label: string;
    w: string;
    width: number;
    gated: boolean;
    bias: boolean;
    act: string;
    experts?: number;
    tokensPerExpert?: number;
  },
): { stages: BuiltStage[]; out: TensorRef } {
  const d = spec.dModel;
  const { width: f, key, w } = opts;
  const p = ctx.prefix;
  // Expert weights are stacked [n_experts, in, out]; the dispatched rows are all (token, expert) pairs.
  const lead = opts.experts ? [opts.experts] : [];
  const tpe = opts.tokensPerExpert;
  const extra = tpe === undefined ? {} : { tokensPerExpert: tpe };
  const stages: BuiltStage[] = [];
  const pre = ref(`${p}${key}.hook_pre`, data(ctx, [rows, f]));
  stages.push(
    stage(ctx, {
      key: `${key}.${opts.gated ? 'gate' : 'in'}`,
      name: `${opts.label} ${opts.gated ? 'gate projection' : 'up-projection'}`,
      op: 'matmul',
      inputs: [x],
      weights: [
        ref(`${w}.${opts.gated ? 'W_gate' : 'W_in'}`, [...lead, d, f]),
        ...(opts.bias ? [ref(`${w}.${opts.gated ? 'b_gate' : 'b_in'}`, [...lead, f])] : []),
      ],
      output: pre,
      flops: matmulFlops(ctx, rows, d, f) + (opts.bias ? elements(ctx, [rows, f]) : 0n),
      ...extra,
    }),
  );
  let actIn: TensorRef[] = [pre];
  if (opts.gated) {
    const lin = ref(`${p}${key}.hook_pre_linear`, data(ctx, [rows, f]));
    stages.push(
      stage(ctx, {
        key: `${key}.in`,
        name: `${opts.label} up-projection`,
        op: 'matmul',
        inputs: [x],
        weights: [ref(`${w}.W_in`, [...lead, d, f]), ...(opts.bias ? [ref(`${w}.b_in`, [...lead, f])] : [])],
        output: lin,
        flops: matmulFlops(ctx, rows, d, f) + (opts.bias ? elements(ctx, [rows, f]) : 0n),
        ...extra,
      }),
    );
    actIn = [pre, lin];
  }
  const post = ref(`${p}${key}.hook_post`, data(ctx, [rows, f]));
  stages.push(
    stage(ctx, {
      key: `${key}.act`,
      name: opts.gated ? `${opts.act}(gate) * up` : opts.act,
      op: actOp(opts.act),
      inputs: actIn,
      output: post,
      // Gated: the activation and the product are two elementwise ops.
      flops: elements(ctx, [rows, f]) * (opts.gated ? 2n : 1n),
      ...extra,
    }),
  );
  const out = ref(`${p}${key}.out`, data(ctx, [rows, d]));
  stages.push(
    stage(ctx, {
      key: `${key}.out`,
      name: `${opts.label} down-projection`,
      op: 'matmul',
      inputs: [post],
      weights: [ref(`${w}.W_out`, [...lead, f, d]), ...(opts.bias ? [ref(`${w}.b_out`, [...lead, d])] : [])],
      output: out,
      flops: matmulFlops(ctx, rows, f, d) + (opts.bias ? elements(ctx, [rows, d]) : 0n),
      ...extra,
    }),
  );
  return { stages, out };
}

export function denseMlpStages(
  spec: ArchSpec,
  ctx: StageCtx,
  seq: number,
  x: TensorRef,
): { stages: BuiltStage[]; out: TensorRef } {
  const m = spec.mlp;
  const r = mlp(spec, ctx, seq, x, {
    key: 'mlp',
    label: 'MLP',
    w: 'mlp',
    width: m.dMlp,
    gated: m.kind === 'gated',
    bias: m.bias,
    act: m.act,
  });
  const out = ref(`${ctx.prefix}hook_mlp_out`, r.out.shape);
  r.stages[r.stages.length - 1]!.stage.output = out;
  return { stages: r.stages, out };
}

export function moeStages(
  spec: ArchSpec,
  ctx: StageCtx,
  seq: number,
  x: TensorRef,
): { stages: BuiltStage[]; out: TensorRef } {
  const moe = spec.moe!;
  const d = spec.dModel;
  const p = ctx.prefix;
  const stages: BuiltStage[] = [];
  const logits = ref(`${p}mlp.router_logits`, data(ctx, [seq, moe.nExperts]));
  stages.push(
    stage(ctx, {
      key: 'mlp.router',
      name: 'Router',
      op: 'matmul',
      inputs: [x],
      weights: [
        ref('mlp.router.W', [d, moe.nExperts]),
        ...(moe.routerBias ? [ref('mlp.router.b', [moe.nExperts])] : []),
      ],
      output: logits,
      flops: matmulFlops(ctx, seq, d, moe.nExperts) + (moe.routerBias ? elements(ctx, [seq, moe.nExperts]) : 0n),
    }),
  );
  stages.push(
    stage(ctx, {
      key: 'mlp.topk',
      name: `Top-${moe.topK} experts per token`,
      op: 'topk',
      inputs: [logits],
      output: ref(`${p}mlp.hook_expert_indices`, data(ctx, [seq, moe.topK])),
      flops: 0n,
      note: `each token keeps ${moe.topK} of ${moe.nExperts} experts and their mixing weights (mlp.hook_expert_weights)`,
    }),
  );
  const rows = seq * moe.topK;
  const tokensPerExpert = (ctx.batch * rows) / moe.nExperts;
  const dispatched = ref(`${p}mlp.dispatched`, data(ctx, [rows, d]));
  const routed = mlp(spec, ctx, rows, dispatched, {
    key: 'mlp.experts',
    label: 'Routed experts',
    w: 'mlp.experts',
    width: moe.dExpert,
    gated: true,
    bias: moe.expertBias,
    act: spec.mlp.act,
    experts: moe.nExperts,
    tokensPerExpert,
  });
  routed.stages[0]!.stage.note =
    `${seq} tokens x top-${moe.topK} = ${rows} (token, expert) rows; each expert sees ${tokensPerExpert} rows on average`;
  stages.push(...routed.stages);
  const parts: TensorRef[] = [routed.out];
  if (moe.dShared > 0) {
    const shared = mlp(spec, ctx, seq, x, {
      key: 'mlp.shared',
      label: 'Shared experts',
      w: 'mlp.shared',
      width: moe.dShared,
      gated: true,
      bias: false,
      act: spec.mlp.act,
    });
    if (moe.nShared > 1)
      shared.stages[0]!.stage.note =
        `${moe.nShared} shared experts fused into one MLP of width ${moe.dShared}; every token uses them`;
    stages.push(...shared.stages);
    parts.push(shared.out);
    if (moe.sharedGate) {
      stages.push(
        stage(ctx, {
          key: 'mlp.shared_gate',
          name: 'Shared-expert gate',
          op: 'matmul',
          inputs: [x],
          weights: [ref('mlp.shared_gate.W', [d, 1])],
          output: ref(`${p}mlp.shared_gate`, data(ctx, [seq, 1])),
          flops: matmulFlops(ctx, seq, d, 1) + elements(ctx, [seq, 1]),
          note: 'sigmoid(x W) scales the shared expert output',
        }),
      );
    }
  }
  const out = ref(`${p}hook_mlp_out`, data(ctx, [seq, d]));
  stages.push(
    stage(ctx, {
      key: 'mlp.combine',
      name: 'Combine experts',
      op: 'combine',
      inputs: parts,
      output: out,
      // Weighted sum of k expert rows per token, plus adding the shared output (and its gate product).
      flops: elements(ctx, [seq, d]) * BigInt(2 * moe.topK - 1 + (moe.dShared > 0 ? 1 + (moe.sharedGate ? 1 : 0) : 0)),
      note: `sum of each token's ${moe.topK} expert outputs weighted by the router${moe.dShared > 0 ? ', plus the shared experts' : ''}`,
    }),
  );
  return { stages, out };
}
