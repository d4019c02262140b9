// loadModelRuntime(dir): validate the checkpoint, build the forward and lens graphs in memory, open onnxruntime sessions.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { inspectCheckpoint } from '../checkpoint/any-checkpoint.js';
import { CheckpointError } from '../checkpoint/safetensors.js';
import { buildGpt2Graph } from '../graph/build-gpt2.js';
import { buildLensGraph } from '../graph/build-lens.js';
import { buildLlamaGraph, buildLlamaLensGraph } from '../graph/build-llama.js';
import { ModelRunError, type RuntimeLogger } from './ort-guard.js';
import { OrtModelRuntime } from './ort-runtime.js';
import type { ModelRuntime } from './types.js';
import type { EditSlot } from '../interventions/types.js';
import { buildSweepAttention, buildSweepAttnOut, buildSweepMlp, buildSweepUnembed } from '../graph/build-sweep.js';
import type { SweepSessions } from '../sweep/sessions.js';

export interface LoadOptions {
  /** The model's name in logs and errors (e.g. the folder name). */
  name: string;
  /** onnxruntime intra-op threads per session; 0 or omitted = onnxruntime's default (one per core). */
  threads?: number;
  logger?: RuntimeLogger;
  /**
   * Let idle intra-op threads spin (onnxruntime's default, true). On a busy or shared machine false is faster:
   * measured on 2 loaded cores, plain forward @128 tokens 912 ms without spinning vs 1279 ms with.
   */
  spinning?: boolean;
}

/**
 * Session options. The graph is handed to onnxruntime as bytes, its initializers pointing into
 * model.safetensors; `model_external_initializers_file_folder_path` tells onnxruntime which folder those
 * relative locations live in. So no .onnx file is written, no weight is copied into a protobuf, and a
 * read-only model folder works. (Writing the graph to <dir>/.cache/ instead fails: onnxruntime 1.30 refuses
 * external data outside the .onnx file's own folder, symlinks resolved.)
 */
function sessionOptions(weightsDir: string, o: LoadOptions): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
    extra: {
      session: {
        model_external_initializers_file_folder_path: weightsDir,
        ...(o.spinning === false ? { intra_op: { allow_spinning: '0' } } : {}),
      },
    },
  };
}

/** The forward and lens graphs of a checkpoint of any family, and the folder their external data lives in. */
async function buildGraphs(dir: string) {
  const any = await inspectCheckpoint(dir);
  if (any.family === 'gpt2') {
    const ckpt = any.ckpt;
    // Resolve symlinks (e.g. a Hugging Face cache snapshot): onnxruntime checks the real path stays in the folder.
    const weights = await realpath(ckpt.files.weights);
    const location = path.basename(weights);
    return {
      dims: ckpt.dims,
      dtype: ckpt.dtype as string,
      folder: path.dirname(weights),
      forwardGraph: buildGpt2Graph(ckpt, location),
      lensGraph: buildLensGraph(ckpt, location),
      editGraph: (slots: EditSlot[]) => buildGpt2Graph(ckpt, location, slots),
      sweepGraphs: {
        attention: (l: number) => buildSweepAttention(ckpt, location, l),
        attnOut: (l: number) => buildSweepAttnOut(ckpt, location, l),
        mlp: (l: number) => buildSweepMlp(ckpt, location, l),
        unembed: () => buildSweepUnembed(ckpt, location),
      },
    };
  }
  const ckpt = any.ckpt;
  // Shards behind symlinks must all resolve into one folder (onnxruntime reads external data from one folder).
  const real = await Promise.all(ckpt.files.weights.map((f) => realpath(f)));
  const folder = path.dirname(real[0]);
  if (real.some((r) => path.dirname(r) !== folder)) {
    throw new CheckpointError(`The safetensors shards of ${dir} resolve into different folders.`);
  }
  const locations = new Map(ckpt.files.weights.map((f, i) => [path.basename(f), path.basename(real[i])]));
  return {
    dims: ckpt.dims,
    dtype: ckpt.dtype as string,
    folder,
    forwardGraph: buildLlamaGraph(ckpt, locations),
    lensGraph: buildLlamaLensGraph(ckpt, locations),
    editGraph: (slots: EditSlot[]) => buildLlamaGraph(ckpt, locations, slots),
    sweepGraphs: null,
  };
}

/** Throws CheckpointError (422, names the bad tensor) for an invalid checkpoint; ModelRunError if onnxruntime refuses the graph. */
export async function loadModelRuntime(dir: string, options: LoadOptions): Promise<ModelRuntime> {
  const t0 = performance.now();
  const ckpt = await buildGraphs(dir);
  const { forwardGraph, lensGraph } = ckpt;
  const opts = sessionOptions(ckpt.folder, options);
  let forward: ort.InferenceSession | undefined;
  try {
    forward = await ort.InferenceSession.create(forwardGraph, opts);
    // The lens runs between forward passes (a stream token: forward, lens, forward...): a pool left spinning after
    // it would steal the cores from the next forward. npm run bench -- stream, row b' (every hook + the lens, 64
    // tokens, 2 quiet cores): 5,793 -> 5,058 ms, 3.13x -> 2.72x the plain decode loop.
    const lens = await ort.InferenceSession.create(
      lensGraph,
      sessionOptions(ckpt.folder, { ...options, spinning: false }),
    );
    options.logger?.info(
      {
        model: options.name,
        dims: ckpt.dims,
        dtype: ckpt.dtype,
        graphBytes: forwardGraph.byteLength,
        loadMs: Math.round(performance.now() - t0),
      },
      'model loaded',
    );
    // Edit graphs (interventions) are built and opened on first use, one per edit structure.
    const openEdits = async (slots: EditSlot[]) => {
      const t1 = performance.now();
      const s = await ort.InferenceSession.create(ckpt.editGraph(slots), opts);
      options.logger?.info(
        { model: options.name, edits: slots.length, loadMs: Math.round(performance.now() - t1) },
        'edit graph loaded',
      );
      return s;
    };
    // Sweep pieces (GPT-2): 3 sessions per block + the unembedding, opened on the first sweep.
    const graphs = ckpt.sweepGraphs;
    const openSweep = graphs
      ? async (): Promise<SweepSessions> => {
          const t1 = performance.now();
          // Many small sessions run in turn: a pool left spinning after its run would steal the cores from the next.
          const sweepOpts = sessionOptions(ckpt.folder, { ...options, spinning: false });
          const open = (g: Uint8Array) => ort.InferenceSession.create(g, sweepOpts);
          const layers = [...Array(ckpt.dims.nLayer).keys()];
          const s: SweepSessions = {
            attention: await Promise.all(layers.map((l) => open(graphs.attention(l)))),
            attnOut: await Promise.all(layers.map((l) => open(graphs.attnOut(l)))),
            mlp: await Promise.all(layers.map((l) => open(graphs.mlp(l)))),
            unembed: await open(graphs.unembed()),
          };
          options.logger?.info(
            { model: options.name, sessions: 3 * layers.length + 1, loadMs: Math.round(performance.now() - t1) },
            'sweep graphs loaded',
          );
          return s;
        }
      : undefined;
    return new OrtModelRuntime(options.name, ckpt.dims, forward, lens, options.logger, openEdits, 4, openSweep);
  } catch (err) {
    await forward?.release();
    options.logger?.error({ model: options.name, err }, 'onnxruntime could not create a session');
    throw new ModelRunError(`onnxruntime could not load ${options.name}: ${(err as Error).message}`, options.name);
  }
}
