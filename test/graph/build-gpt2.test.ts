// The built ONNX graphs: hook names as outputs, weights as external data (tiny graph files), valid for onnxruntime.
import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { inspectGpt2Checkpoint } from '../../src/checkpoint/gpt2-checkpoint.js';
import { allHookNames } from '../../src/hooks/catalogue.js';
import { buildGpt2Graph } from '../../src/graph/build-gpt2.js';
import { buildLensGraph } from '../../src/graph/build-lens.js';
import { TINY, TINY_FP16 } from '../runtime/reference.js';

const { onnx } = onnxProto;
/** Decoded graph (protobufjs types every field as optional). */
const graphOf = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph as onnxProto.onnx.GraphProto;

describe('buildGpt2Graph', () => {
  it('outputs every catalogue hook by its exact name, then present.{i}.key/value; inputs ids + past', async () => {
    const ckpt = await inspectGpt2Checkpoint(TINY);
    const model = onnx.ModelProto.decode(buildGpt2Graph(ckpt, 'model.safetensors'));
    const graph = model.graph as onnxProto.onnx.GraphProto;
    const outputs = graph.output.map((o) => o.name);
    const L = ckpt.dims.nLayer;
    const present = [...Array(L).keys()].flatMap((i) => [`present.${i}.key`, `present.${i}.value`]);
    expect(new Set(outputs)).toEqual(new Set([...allHookNames(L), ...present]));
    expect(outputs).toHaveLength(allHookNames(L).length + 2 * L);
    expect(graph.input.map((i) => i.name)).toEqual([
      'input_ids',
      ...[...Array(L).keys()].flatMap((i) => [`past.${i}.key`, `past.${i}.value`]),
    ]);
    expect(Number(model.opsetImport[0].version)).toBe(17);
  });

  it('keeps the weights out of the graph: every checkpoint tensor is external data pointing into model.safetensors', async () => {
    const ckpt = await inspectGpt2Checkpoint(TINY);
    const bytes = buildGpt2Graph(ckpt, 'model.safetensors');
    expect(bytes.byteLength).toBeLessThan(64 * 1024); // the checkpoint is 6.6 MB
    const graph = graphOf(bytes);
    const ext = graph.initializer.filter((t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    expect(ext.map((t) => t.name).sort()).toEqual([...ckpt.tensors.keys()].sort());
    const wte = ext.find((t) => t.name === 'wte.weight')!;
    const kv = Object.fromEntries(wte.externalData!.map((e) => [e.key, e.value]));
    const info = ckpt.tensors.get('wte.weight')!;
    expect(kv).toEqual({
      location: 'model.safetensors',
      offset: String(info.dataOffset),
      length: String(info.byteLength),
    });
  });

  it('fp16 checkpoints get FLOAT16 initializers cast to float32 under the canonical names', async () => {
    const ckpt = await inspectGpt2Checkpoint(TINY_FP16);
    const graph = graphOf(buildGpt2Graph(ckpt, 'model.safetensors'));
    const init = graph.initializer.find((t) => t.name === 'wte.weight.F16')!;
    expect(init.dataType).toBe(onnx.TensorProto.DataType.FLOAT16);
    const cast = graph.node.find((n) => n.output?.[0] === 'wte.weight')!;
    expect(cast.opType).toBe('Cast');
  });
});

describe('buildLensGraph', () => {
  it('rows + k + track_ids -> top_probs, top_ids, tracked', async () => {
    const ckpt = await inspectGpt2Checkpoint(TINY);
    const graph = graphOf(buildLensGraph(ckpt, 'model.safetensors'));
    expect(graph.input.map((i) => i.name)).toEqual(['rows', 'k', 'track_ids']);
    expect(graph.output.map((o) => o.name)).toEqual(['top_probs', 'top_ids', 'tracked']);
  });
});
