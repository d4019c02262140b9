// A small ONNX graph builder: named nodes, constants, external-data initializers, typed inputs/outputs -> ModelProto bytes.
// We encode with onnx-proto (protobufjs code generated from the official onnx.proto), so field numbers and
// wire types are right by construction; a hand-written encoder would have to re-derive them and be tested
// for it. Its proto is ONNX 1.10 (IR 8), which already has external data and every op we use (opset 17).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type INodeProto = onnxProto.onnx.INodeProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;

export const OPSET = 17;
export const IR_VERSION = 8;

/** ONNX TensorProto.DataType values we use. */
export const DT = { FLOAT: 1, INT64: 7, BOOL: 9, FLOAT16: 10, BFLOAT16: 16 } as const;
export type ElemType = (typeof DT)[keyof typeof DT];

/** A dimension: a fixed size or a symbolic name (`pos`, `past_pos`). */
export type Dim = number | string;

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

export interface ExternalTensor {
  name: string;
  elemType: ElemType;
  dims: readonly number[];
  /** Path of the data file relative to the .onnx file's folder. */
  location: string;
  offset: number;
  length: number;
}

function attribute(name: string, v: AttrValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}

function valueInfo(name: string, elemType: ElemType, dims: readonly Dim[]): IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class GraphBuilder {
  private readonly nodes: INodeProto[] = [];
  private readonly initializers: ITensorProto[] = [];
  private readonly inputs: IValueInfoProto[] = [];
  private readonly outputs: IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;
  /** Tensor name -> code that rewrites it (see intercept()). */
  private readonly intercepts = new Map<string, (raw: string) => void>();

  constructor(private readonly graphName: string) {}

  /**
   * From now on, the node that would produce `name` produces `${name}/unedited` instead, and `rewrite(raw)` runs
   * right after it; it must add nodes whose last output is `name`. Every later reader of `name` then reads the
   * rewritten tensor, and so does a graph output of that name: a graph builder needs no change to gain edits.
   */
  intercept(name: string, rewrite: (raw: string) => void): void {
    if (this.names.has(name)) throw new Error(`GraphBuilder: cannot intercept ${name}, it is already produced`);
    this.intercepts.set(name, rewrite);
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`GraphBuilder: tensor name ${name} is used twice`);
    this.names.add(name);
    return name;
  }

  /**
   * Add a node. `out` names its output(s); omitted = a fresh internal name under `scope`.
   * Returns the output names (first one for the common single-output case via `[0]`).
   */
  node(
    opType: string,
    inputs: readonly string[],
    out?: string | readonly string[],
    attrs: Record<string, AttrValue> = {},
    scope = '',
  ): string[] {
    const outs =
      out === undefined
        ? [`${scope}${scope ? '/' : ''}${opType}_${this.counter++}`]
        : typeof out === 'string'
          ? [out]
          : [...out];
    const rewrites: [string, (raw: string) => void][] = [];
    const produced = outs.map((o) => {
      const rewrite = this.intercepts.get(o);
      if (!rewrite) return o;
      this.intercepts.delete(o);
      rewrites.push([o, rewrite]);
      return `${o}/unedited`;
    });
    produced.forEach((o) => this.claim(o));
    this.nodes.push({
      opType,
      name: `${produced[0]}#${opType}`,
      input: [...inputs],
      output: produced,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    for (const [o, rewrite] of rewrites) {
      rewrite(`${o}/unedited`);
      if (!this.names.has(o)) throw new Error(`GraphBuilder: the rewrite of ${o} did not produce it`);
    }
    return outs;
  }

  /** Single-output shorthand for node(). */
  op(
    opType: string,
    inputs: readonly string[],
    out?: string,
    attrs: Record<string, AttrValue> = {},
    scope = '',
  ): string {
    return this.node(opType, inputs, out, attrs, scope)[0];
  }

  constFloat(name: string, values: readonly number[], dims: readonly number[] = []): string {
    this.initializers.push({ name: this.claim(name), dataType: DT.FLOAT, dims: [...dims], floatData: [...values] });
    return name;
  }

  constInt64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    this.initializers.push({ name: this.claim(name), dataType: DT.INT64, dims: [...dims], int64Data: [...values] });
    return name;
  }

  /** An initializer whose bytes stay in another file (ONNX external data): nothing is copied into the graph. */
  external(t: ExternalTensor): string {
    this.initializers.push({
      name: this.claim(t.name),
      dataType: t.elemType,
      dims: [...t.dims],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: t.location },
        { key: 'offset', value: String(t.offset) },
        { key: 'length', value: String(t.length) },
      ],
    });
    return t.name;
  }

  input(name: string, elemType: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, dims));
    return name;
  }

  /** Declare an existing tensor as a graph output (the tensor keeps its name: hook names are output names). */
  output(name: string, elemType: ElemType, dims: readonly Dim[]): void {
    if (!this.names.has(name)) throw new Error(`GraphBuilder: output ${name} is not produced by any node`);
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  get outputNames(): string[] {
    return this.outputs.map((o) => o.name as string);
  }

  encode(docString = ''): Uint8Array {
    if (this.intercepts.size > 0) {
      throw new Error(`GraphBuilder: intercepted tensors never produced: ${[...this.intercepts.keys()].join(', ')}`);
    }
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'tensortrace',
      docString,
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
