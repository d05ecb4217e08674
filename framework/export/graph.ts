/**
 * A small ONNX graph builder: nodes in topological order, initializers (weights and constants) and
 * unique tensor names. Layer converters only call `node`, `weight`, `scalar` and `int64s`; nothing here knows
 * about tfjs.
 */
import type { Attr, OnnxGraph } from '../layers/index.js';
import { ATTR_TYPE, DATA_TYPE, type AttributeProtoObj, type NodeProtoObj, type TensorProtoObj } from './onnx-proto.js';

export type { Attr };

function toAttribute(name: string, a: Attr): AttributeProtoObj {
  if ('i' in a) return { name, type: ATTR_TYPE.INT, i: a.i };
  if ('f' in a) return { name, type: ATTR_TYPE.FLOAT, f: a.f };
  if ('ints' in a) return { name, type: ATTR_TYPE.INTS, ints: a.ints };
  if ('floats' in a) return { name, type: ATTR_TYPE.FLOATS, floats: a.floats };
  return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(a.s) };
}

/** float32 values as little-endian bytes (TensorProto.raw_data is little-endian on every host). */
function floatBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

export class GraphBuilder implements OnnxGraph {
  readonly nodes: NodeProtoObj[] = [];
  readonly initializers: TensorProtoObj[] = [];
  // Node names and tensor names are separate namespaces in ONNX.
  private readonly nodeNames = new Set<string>();
  private readonly tensorNames = new Set<string>();
  private readonly reserved = new Set<string>();
  private readonly constants = new Map<string, string>();

  constructor(reservedTensorNames: string[] = []) {
    for (const n of reservedTensorNames) {
      this.reserved.add(n);
      this.tensorNames.add(n);
    }
  }

  private static fresh(set: Set<string>, base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_');
    let name = clean;
    for (let k = 1; set.has(name); k++) name = `${clean}_${k}`;
    set.add(name);
    return name;
  }

  /** A unique node name based on `base`. */
  nodeName(base: string): string {
    return GraphBuilder.fresh(this.nodeNames, base);
  }

  /** A unique tensor name based on `base`. */
  tensorName(base: string): string {
    return GraphBuilder.fresh(this.tensorNames, base);
  }

  /** Add a node with explicit output names (graph outputs). */
  rawNode(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, base = opType): void {
    this.nodes.push({ name: this.nodeName(base), opType, input: inputs, output: outputs, attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)) });
  }

  /** Add one node; returns the name of its (first) output. */
  node(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, base = opType): string {
    const name = this.nodeName(base);
    const output = this.tensorName(`${name}_out`);
    this.nodes.push({
      name,
      opType,
      input: inputs,
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return output;
  }

  /** A float32 weight tensor (stored as raw_data). */
  weight(base: string, dims: number[], values: ArrayLike<number>): string {
    const size = dims.reduce((p, q) => p * q, 1);
    if (size !== values.length) throw new Error(`ONNX export: weight ${base} has ${values.length} values for shape [${dims.join(', ')}]`);
    const name = this.tensorName(base);
    this.initializers.push({ name, dims, dataType: DATA_TYPE.FLOAT, rawData: floatBytes(values) });
    return name;
  }

  /** A float32 scalar constant, shared between nodes that use the same value. */
  scalar(value: number): string {
    const key = `f:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.tensorName(`const_${String(value).replace(/[^0-9a-z]/gi, '_')}`);
      this.initializers.push({ name, dims: [], dataType: DATA_TYPE.FLOAT, rawData: floatBytes([value]) });
      this.constants.set(key, name);
    }
    return name;
  }

  /** An int64 vector constant (Reshape shapes, ...), shared by value. */
  int64s(values: number[], base = 'shape'): string {
    const key = `i:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.tensorName(base);
      this.initializers.push({ name, dims: [values.length], dataType: DATA_TYPE.INT64, int64Data: values });
      this.constants.set(key, name);
    }
    return name;
  }

  /** Give the tensor `from` (a node output) the reserved graph-level name `to`. */
  renameOutput(from: string, to: string): void {
    if (!this.reserved.delete(to)) throw new Error(`ONNX export: tensor name ${to} was not reserved or is already used`);
    const producer = this.nodes.find((n) => n.output.includes(from));
    if (!producer) throw new Error(`ONNX export: no node produces ${from}`);
    for (const n of this.nodes) {
      n.output = n.output.map((o) => (o === from ? to : o));
      n.input = n.input.map((i) => (i === from ? to : i));
    }
  }
}
