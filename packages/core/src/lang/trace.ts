/**
 * Tracing: evaluates the per-element bodies of a run of element-wise stages
 * with a symbolic {@link Ops} to get one expression graph (a DAG with common
 * subexpressions shared), the kernel IR that every code generator prints.
 *
 * In the graph, the incoming update `u` of the run feeds the first stage, each
 * stage's outgoing `u` feeds the next one, and the run ends either with the
 * param update `p + u` (output `p`) or with its updates (output `u`). Slots
 * and scalars are namespaced per stage: `s<i>:<slot>` and `<i>:<name>`.
 *
 * @module
 */
import { isScalesName, type PackedStorage, scaledName, scalesName, storageKey } from './packed-columns.js';
import type { ElementwiseSpec, Ops, ReductionSpec } from './spec.js';
import { isPacked } from './storage/slot-storage.js';

/**
 * The operations of the graph: every operation of {@link Ops} but the
 * constant `c`, plus the leaves `input`, `scalar` and `const` and `toFloat`
 * (a mask used as a float). A new op in {@link Ops} is a new `NodeOp`, and
 * every printer's table fails to type-check until it has an entry for it.
 */
export type NodeOp = 'input' | 'scalar' | 'const' | 'toFloat' | Exclude<keyof Ops<unknown>, 'c'>;

/** One node of the graph; `args` are indices of earlier nodes. */
export interface Node {
  readonly op: NodeOp;
  readonly args: readonly number[];
  /** Whether the node is a mask (a comparison result) rather than a float. */
  readonly mask: boolean;
  /** Whether the node is the same for every element of a leaf (built from scalars and constants only). */
  readonly uniform: boolean;
  /** `const`: the float32 value. */
  readonly value?: number;
  /** `input`/`scalar`: the index into {@link KernelIR.inputs} / {@link KernelIR.scalars}. */
  readonly index?: number;
}

/** A per-step scalar of a kernel: its name, and whether it changes from leaf to leaf (a per-leaf reduction). */
export interface ScalarRef {
  /** `<stage>:<name>` (stage index within the run). */
  readonly name: string;
  readonly stage: number;
  readonly key: string;
  /** Where the value comes from: the spec's `scalars(count)`, a global reduction, or a per-leaf reduction. */
  readonly source: 'param' | 'global' | 'leaf';
}

/** A kernel output: the name of what it writes and the node it stores. */
export interface OutputRef {
  /** `u` (the run's updates), `p` (the new params) or `s<i>:<slot>`. */
  readonly name: string;
  readonly node: number;
}

/**
 * The kernel IR of one fused run: nodes in topological order (dead nodes
 * removed), the per-element arrays it reads, its scalars and its outputs.
 * `signature` is a canonical text of all of it: equal signatures compile to
 * the same kernel.
 */
export interface KernelIR {
  readonly nodes: readonly Node[];
  /** Per-element arrays read: `u`, `p`, `s<i>:<slot>`. */
  readonly inputs: readonly string[];
  readonly scalars: readonly ScalarRef[];
  /** Outputs that a kernel computes (slots the body leaves unchanged are not listed). */
  readonly outputs: readonly OutputRef[];
  /**
   * The storage of each packed array among the inputs and outputs, by name
   * (float32 arrays are absent); an int8 array is followed by its
   * `#scales` array (see `packed-columns.ts`).
   */
  readonly packed: Readonly<Record<string, PackedStorage>>;
  /** Whether any node uses `exp` or `log` (which have no SIMD instruction). */
  readonly transcendental: boolean;
  readonly signature: string;
}

/** The error thrown when a body cannot be traced (a non-fusible body); the caller falls back to the reference path. */
export class TraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceError';
  }
}

/** A symbolic value of a body: a node of a graph. */
class Expr {
  constructor(
    readonly graph: Graph,
    readonly id: number,
  ) {}
}

function constKey(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

/** A hash-consed expression graph under construction. */
class Graph {
  readonly nodes: Node[] = [];
  private readonly memo = new Map<string, number>();
  readonly inputs: string[] = [];
  readonly scalars: ScalarRef[] = [];

  private add(node: Node, key: string): Expr {
    let id = this.memo.get(key);
    if (id === undefined) {
      id = this.nodes.push(node) - 1;
      this.memo.set(key, id);
    }
    return new Expr(this, id);
  }

  input(name: string): Expr {
    let index = this.inputs.indexOf(name);
    if (index < 0) index = this.inputs.push(name) - 1;
    return this.add({ op: 'input', args: [], mask: false, uniform: false, index }, `in:${name}`);
  }

  scalar(ref: ScalarRef): Expr {
    let index = this.scalars.findIndex((s) => s.name === ref.name);
    if (index < 0) index = this.scalars.push(ref) - 1;
    return this.add({ op: 'scalar', args: [], mask: false, uniform: true, index }, `k:${ref.name}`);
  }

  constant(x: number): Expr {
    if (typeof x !== 'number') throw new TraceError(`m.c expects a number, got ${typeof x}`);
    const v = Math.fround(x);
    return this.add({ op: 'const', args: [], mask: false, uniform: true, value: v }, `c:${constKey(v)}`);
  }

  node(op: NodeOp, args: readonly Expr[], mask: boolean): Expr {
    const ids = args.map((a) => this.own(a, op).id);
    const uniform = ids.every((i) => (this.nodes[i] as Node).uniform);
    return this.add({ op, args: ids, mask, uniform }, `${op}(${ids.join(',')})`);
  }

  own(a: unknown, op: string): Expr {
    if (!(a instanceof Expr) || a.graph !== this) {
      throw new TraceError(`the body passed ${a === undefined ? 'undefined' : typeof a} to m.${op}, not a value of the body`);
    }
    return a;
  }

  isMask(a: Expr): boolean {
    return (this.nodes[a.id] as Node).mask;
  }

  /** A float operand: masks used in arithmetic count as 1/0 (as tfjs upcasts bool to float32). */
  float(a: unknown, op: string): Expr {
    const e = this.own(a, op);
    return this.isMask(e) ? this.node('toFloat', [e], false) : e;
  }

  /** A mask operand: a float where a mask is needed is an error on the reference path too. */
  maskArg(a: unknown, op: string): Expr {
    const e = this.own(a, op);
    if (!this.isMask(e)) throw new TraceError(`m.${op} needs a mask (a comparison result), got a float value`);
    return e;
  }
}

function symbolicOps(g: Graph): Ops<Expr> {
  const bin = (op: NodeOp) => (a: Expr, b: Expr) => g.node(op, [g.float(a, op), g.float(b, op)], false);
  const un = (op: NodeOp) => (a: Expr) => g.node(op, [g.float(a, op)], false);
  const cmp = (op: NodeOp) => (a: Expr, b: Expr) => g.node(op, [g.float(a, op), g.float(b, op)], true);
  return {
    c: (x) => g.constant(x),
    add: bin('add'),
    sub: bin('sub'),
    mul: bin('mul'),
    div: bin('div'),
    max: bin('max'),
    min: bin('min'),
    neg: un('neg'),
    abs: un('abs'),
    sqrt: un('sqrt'),
    square: un('square'),
    sign: un('sign'),
    exp: un('exp'),
    log: un('log'),
    lt: cmp('lt'),
    le: cmp('le'),
    gt: cmp('gt'),
    ge: cmp('ge'),
    eq: cmp('eq'),
    and: (a, b) => g.node('and', [g.maskArg(a, 'and'), g.maskArg(b, 'and')], true),
    or: (a, b) => g.node('or', [g.maskArg(a, 'or'), g.maskArg(b, 'or')], true),
    not: (a) => g.node('not', [g.maskArg(a, 'not')], true),
    isNaN: (a) => g.node('isNaN', [g.float(a, 'isNaN')], true),
    isFinite: (a) => g.node('isFinite', [g.float(a, 'isFinite')], true),
    select: (cond, a, b) => {
      const c = g.maskArg(cond, 'select');
      const ea = g.own(a, 'select');
      const eb = g.own(b, 'select');
      if (g.isMask(ea) && g.isMask(eb)) return g.node('select', [c, ea, eb], true);
      return g.node('select', [c, g.float(ea, 'select'), g.float(eb, 'select')], false);
    },
  };
}

/** The reductions of a spec whose value a body reads as `k[name]`, by name, last one winning as on the reference path. */
function reductionSource(spec: ElementwiseSpec, name: string): ReductionSpec['scope'] | undefined {
  let scope: ReductionSpec['scope'] | undefined;
  for (const r of spec.reductions ?? []) if (r.name === name && (scope !== 'leaf' || r.scope === 'leaf')) scope = r.scope;
  return scope;
}

/**
 * Traces a run of element-wise stages into one kernel IR. With `apply`, the
 * run ends with the param update `p + u` (output `p`); otherwise it outputs
 * its updates (`u`). Throws {@link TraceError} when a body is not traceable.
 */
export function traceRun(specs: readonly ElementwiseSpec[], apply: boolean): KernelIR {
  const g = new Graph();
  const m = symbolicOps(g);
  let u = g.input('u');
  const slotOut: [string, Expr][] = [];
  const packed: Record<string, PackedStorage> = {};
  specs.forEach((spec, i) => {
    for (const s of spec.slots) if (isPacked(s.storage)) packed[`s${i}:${s.name}`] = s.storage;
    const x: Record<string, Expr> = { u };
    if (spec.needsParams) x.p = g.input('p');
    for (const s of spec.slots) x[s.name] = g.input(`s${i}:${s.name}`);
    const k = new Proxy({} as Record<string, Expr>, {
      get(_t, prop) {
        if (typeof prop !== 'string') return undefined;
        const scope = reductionSource(spec, prop);
        return g.scalar({ name: `${i}:${prop}`, stage: i, key: prop, source: scope ?? 'param' });
      },
    });
    let out: Record<string, unknown>;
    try {
      out = spec.body(m, x as never, k) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof TraceError) throw new TraceError(`${spec.name}: ${e.message}`);
      throw new TraceError(`${spec.name}: the body failed symbolically (${(e as Error)?.message ?? String(e)})`);
    }
    if (out === null || typeof out !== 'object') throw new TraceError(`${spec.name}: the body returned ${String(out)}`);
    u = g.float(out.u, 'u (output)');
    for (const s of spec.slots) {
      const v = out[s.name];
      slotOut.push([`s${i}:${s.name}`, v === undefined ? (x[s.name] as Expr) : g.float(v, `${s.name} (output)`)]);
    }
  });
  const outputs: [string, Expr][] = [...slotOut];
  outputs.push(apply ? ['p', m.add(g.input('p'), u)] : ['u', u]);
  return finish(g, outputs, packed);
}

/** The names with the `#scales` array of each int8 one right after it. */
function withScales(names: readonly string[], packed: Readonly<Record<string, PackedStorage>>): string[] {
  return names.flatMap((name) => (packed[name]?.dtype === 'int8' ? [name, scalesName(name)] : [name]));
}

/**
 * Removes dead nodes, renumbers, drops unchanged float32 slots from the
 * outputs (a packed slot is always written: decoded and encoded again, as
 * on the reference path) and builds the signature.
 */
function finish(g: Graph, outs: readonly [string, Expr][], allPacked: Readonly<Record<string, PackedStorage>>): KernelIR {
  const live = new Uint8Array(g.nodes.length);
  const mark = (id: number): void => {
    if (live[id]) return;
    live[id] = 1;
    for (const a of (g.nodes[id] as Node).args) mark(a);
  };
  const kept: [string, number][] = [];
  for (const [name, e] of outs) {
    const n = g.nodes[e.id] as Node;
    if (n.op === 'input' && g.inputs[n.index as number] === name && !(name in allPacked)) continue; // a slot the run leaves as it is
    kept.push([name, e.id]);
    mark(e.id);
  }
  // inputs and scalars keep only the live ones, renumbered in order of first use
  const remap = new Int32Array(g.nodes.length).fill(-1);
  const nodes: Node[] = [];
  const inputs: string[] = [];
  const scalars: ScalarRef[] = [];
  g.nodes.forEach((n, id) => {
    if (!live[id]) return;
    let node: Node = { ...n, args: n.args.map((a) => remap[a] as number) };
    if (n.op === 'input') node = { ...node, index: inputs.push(g.inputs[n.index as number] as string) - 1 };
    if (n.op === 'scalar') node = { ...node, index: scalars.push(g.scalars[n.index as number] as ScalarRef) - 1 };
    remap[id] = nodes.push(node) - 1;
  });
  const names = new Set([...inputs, ...kept.map(([name]) => name)]);
  const packed: Record<string, PackedStorage> = {};
  for (const [name, s] of Object.entries(allPacked)) if (names.has(name)) packed[name] = s;
  // an int8 array's scales follow it; input nodes keep their indices among the other inputs
  const columns = withScales(inputs, packed);
  nodes.forEach((n, id) => {
    if (n.op === 'input') nodes[id] = { ...n, index: columns.indexOf(inputs[n.index as number] as string) };
  });
  const node = new Map(kept.map(([name, id]) => [name, remap[id] as number]));
  const outputs = withScales(
    kept.map(([name]) => name),
    packed,
  ).map((name) => ({ name, node: node.get(isScalesName(name) ? scaledName(name) : name) as number }));
  const text = nodes.map((n) => {
    if (n.op === 'const') return `c${constKey(n.value as number)}`;
    if (n.op === 'input') return `i${n.index}`;
    if (n.op === 'scalar') return `k${n.index}${(scalars[n.index as number] as ScalarRef).source === 'leaf' ? 'L' : ''}`;
    return `${n.op}(${n.args.join(',')})`;
  });
  const storage = Object.entries(packed).map(([name, st]) => `${name}=${storageKey(st)}`);
  const signature = `${text.join(';')}|${columns.join(',')}|${outputs.map((o) => `${o.name}=${o.node}`).join(',')}|${storage.join(',')}`;
  return {
    nodes,
    inputs: columns,
    packed,
    scalars,
    outputs,
    transcendental: nodes.some((n) => n.op === 'exp' || n.op === 'log'),
    signature,
  };
}
