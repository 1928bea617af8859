/**
 * A Python torch.nn.Module as a TS nn.Module: `await nn.Module.fromPython(proxy)`.
 *
 *   const models = torch.py.import('mypkg.models');
 *   const model = await torch.nn.Module.fromPython(models.SmallCNN());
 *   const opt = new torch.optim.SGD(model.parameters(), { lr: 0.1 });   // TS Parameters
 *   const loss = F.cross_entropy(model.forward(x), y);                  // Python's forward
 *
 * The wrapper mirrors the Python module tree: each submodule is a PythonModule of its own, and
 * parameters and buffers are torchbridge Parameters and Tensors by handle over the very Python
 * tensors (one handle each, shared ones once), with the metadata and .grad the runtime reported.
 * So everything nn.Module does in TS works on it as on a TS module (named_parameters,
 * state_dict and load_state_dict with Python's keys, to(), requires_grad_(), TS optimizers and
 * schedulers, a place in a TS Sequential), and Python code that holds the module sees the same
 * tensors. What the TS side does not wrap is reachable through `model.py`, a torch.py proxy.
 *
 * forward() calls the module as Python does (`module(*args, **kwargs)`: hooks and all) and
 * returns a tensor whose metadata the runtime reports. The runtime checks that the call changed
 * none of the tensors the mirror knows (the module's and the tensor arguments) and that the
 * output's graph reaches every parameter that requires grad; if not, those are re-read
 * (py/touched.ts), so backward() marks exactly the parameters Python gives a .grad.
 */
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { Tensor, newTensor } from '../tensor/tensor.js';
import { resultMetaFromWire, type WireMeta } from '../tensor/meta.js';
import { PyObject, pyCall } from '../py/object.js';
import { proxyFor, type PyProxy } from '../py/proxy.js';
import { proxyTarget, toPython } from '../py/to_python.js';
import { hold, restate, setGradState } from '../py/touched.js';
import { pythonObject } from '../py/counterpart.js';
import { keep } from '../memory/lifetime.js';
import { ArgumentError, torchError } from '../errors.js';
import { HELPER } from '../transport/protocol.js';
import { isKwargs, describe } from '../ops/signature.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import { link } from '../autograd/graph.js';

/** What tb.module_tree reports of one module. */
interface Node {
  type: string;
  training: boolean;
  parameters: [string, number][];
  buffers: [string, number][];
  non_persistent: string[];
  children: [string, number][];
}

interface Tree {
  modules: [PyObject | null, Node][];
  tensors: [WireMeta, WireMeta | null][];
}

export class PythonModule extends Module {
  /** Any member by name, as Python's attribute access gives it: a submodule, parameter or buffer. */
  [member: string]: unknown;
  /** The Python module as a torch.py proxy, for anything the wrapper does not cover. */
  declare readonly py: PyProxy;
  /** Python's class name ('SmallCNN'). */
  declare readonly pyType: string;
  /** @internal the Python module by handle */
  declare readonly _obj: PyObject;
  /** @internal own parameters, buffers and children, in Python's order */
  declare _entries: [string, Parameter | Tensor | PythonModule][];
  /** @internal every distinct tensor of this subtree, in the order tb.module_call checks them */
  declare _tensors: Tensor[];

  /** @internal made by nn.Module.fromPython(). */
  constructor(obj: PyObject, node: Node) {
    super();
    this.training = node.training;
    for (const [k, v] of [
      ['py', proxyFor(obj, true)],
      ['pyType', node.type],
      ['_obj', obj],
      ['_entries', []],
      ['_tensors', []],
    ] as const) {
      Object.defineProperty(this, k, { value: v, writable: k === '_entries' || k === '_tensors', enumerable: false, configurable: true });
    }
    if (node.non_persistent.length > 0) this._non_persistent = new Set(node.non_persistent);
  }

  override _members(): Iterable<[string, unknown]> {
    return this._entries;
  }

  /** Python's `module(*args, **kwargs)`; a trailing plain object is the keyword arguments. */
  override forward(...args: unknown[]): Tensor {
    this._obj._check();
    const last = args[args.length - 1];
    const hasKw = args.length > 0 && isKwargs(last);
    const where = `${this.pyType}.forward`;
    const pos = toPython(hasKw ? args.slice(0, -1) : args, `${where}() argument`, 'tensor');
    const kw = hasKw ? toPython(last, `${where}() keyword argument`, 'tensor') : undefined;
    const kwargs = kw === undefined ? undefined : Object.fromEntries(kw.value as Map<string, unknown>);
    const s = this._obj._s;
    const out = newTensor(s, undefined, where);
    const report = new PyObject(s, s.newHandle(), `${where} report`);
    const reply = s.expectReply();
    s.call([out.id, report.id], HELPER.module_call, [this._obj, ...(pos.value as unknown[])], kwargs ?? null, reply.id, true);
    for (const t of [...pos.temporaries, ...(kw?.temporaries ?? [])]) t.dispose();
    // what tb.module_call checks: this subtree's tensors, then the top-level tensor arguments
    const checked = [...this._tensors, ...[...(pos.value as unknown[]), ...Object.values(kwargs ?? {})].filter((a): a is Tensor => a instanceof Tensor)];
    if (is_grad_enabled()) {
      const inputs = checked.filter((t) => t._m === undefined || t._m.requires_grad);
      if (inputs.length > 0) link(out, inputs);
    }
    reply.promise.catch(() => report.dispose()); // the call failed: out holds the error
    void out._expectMeta(
      reply.promise.then((metas) => {
        const [w, r] = metas as [WireMeta, WireMeta];
        if (r[0] === 'py' && r[1] !== 'NoneType') applyReport(report, out, checked);
        else report.dispose();
        const m = resultMetaFromWire(w);
        if ('notTensor' in m) {
          return torchError('TypeError', `${where}() returned a Python ${m.notTensor}, not a Tensor: call it through the proxy (model.py(...)) for other results`, where);
        }
        return m;
      }),
    );
    return out;
  }

  /** Python's train(mode): one call on the Python module (it recurses), the flags here follow. */
  override train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ArgumentError('training mode is expected to be boolean');
    this._obj.run('train', [mode], undefined, false);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Python's zero_grad(set_to_none=True), run by the Python module itself. */
  override zero_grad(set_to_none = true): this {
    if (typeof set_to_none !== 'boolean') throw new ArgumentError(`zero_grad(): argument 'set_to_none' must be bool, not ${describe(set_to_none)}`);
    this._obj.run('zero_grad', [set_to_none], undefined, false);
    if (set_to_none) {
      for (const t of this._tensors) {
        t._gradState = 0;
        t._gradCache = undefined;
        t._gradGraph = undefined;
      }
    } else restate(this._tensors.filter((t) => t._gradState !== 0)); // zeroed in place: a grad's flags may change
    return this;
  }

  /** A Python module keeps its own repr: `await model.py.$str()`; this is the tree by class name. */
  override toString(): string {
    const kids = this.named_children().map(([k, m]) => `(${k}): ${m.toString().split('\n').join('\n  ')}`);
    return kids.length === 0 ? `${this.pyType}()` : `${this.pyType}(\n  ${kids.join('\n  ')}\n)`;
  }

  [pythonObject](): PyObject {
    return this._obj;
  }
}

/**
 * tb.module_call said the mirror's view is off (a tensor changed, or a parameter the output's
 * graph does not reach): everything it checked is re-read, and the re-read state counts only
 * once the output is unlinked from the unreached parameters (so a backward() queued after the
 * re-read gives them no .grad; one queued before is followed by another re-read, touched.ts).
 */
function applyReport(report: PyObject, out: Tensor, checked: Tensor[]): void {
  const unlinked = report
    .value()
    .then((r) => {
      const unreached = new Set((r as { unreached: number[] }).unreached.map((i) => checked[i]!));
      if (out._inputs !== undefined && unreached.size > 0) out._inputs = out._inputs.filter((t) => !unreached.has(t));
    })
    .catch(() => {}) // unreadable: the re-read below still states what Python did
    .finally(() => report.dispose());
  restate(
    checked.filter((t) => !t._disposed),
    unlinked,
  );
}

function pyObjectOf(obj: unknown, where: string): PyObject {
  if (obj instanceof PyObject) return obj;
  const target = typeof obj === 'function' ? proxyTarget.get(obj) : undefined;
  if (target !== undefined) return target();
  throw new ArgumentError(`${where} takes a Python torch.nn.Module (a torch.py proxy), got ${describe(obj)}`);
}

/** A handle made here for a tensor the runtime already has: a Parameter where Python has one. */
function adopt(s: PyObject['_s'], w: WireMeta, parameter: boolean, origin: string): Tensor {
  const meta = resultMetaFromWire(w);
  if ('notTensor' in meta) throw torchError('TypeError', `${origin}: expected a tensor, got a Python ${meta.notTensor}`);
  // Tensor's constructor with Parameter's prototype: a Parameter over an existing runtime tensor
  // (Parameter's own constructor would make a new one)
  const t = Reflect.construct(Tensor, [s, s.newHandle(), meta, origin], parameter ? Parameter : Tensor) as Tensor;
  return keep(t); // a module's tensors outlive torch.tidy scopes, as TS modules' do
}

/**
 * Wrap a Python torch.nn.Module (a torch.py proxy or PyObject) as a TS nn.Module. One round trip
 * (the module's structure and metadata); the tensors come by handle, no data is copied.
 */
export async function fromPython(obj: PyProxy | PyObject | PythonModule): Promise<PythonModule> {
  if (obj instanceof PythonModule) return obj;
  const root = pyObjectOf(obj, 'nn.Module.fromPython()');
  const origin = `nn.Module.fromPython(${root.origin})`;
  const described = pyCall(HELPER.module_tree, [root], undefined, origin);
  let tree: Tree;
  try {
    tree = (await described.value()) as Tree;
  } finally {
    described.dispose();
  }
  const s = root._s;
  const params = new Set<number>();
  for (const [, node] of tree.modules) for (const [, i] of node.parameters) params.add(i);
  const tensors = tree.tensors.map(([w], i) => adopt(s, w, params.has(i), origin));
  if (tensors.length > 0) s.call(tensors.map((t) => t.id), HELPER.module_tensors, [root, tensors.length], null, 0, true);
  tensors.forEach((t, i) => setGradState(t, t._m!, tree.tensors[i]![1]));
  const modules = tree.modules.map(([handle, node], i) => new PythonModule(i === 0 ? root : keep(handle!), node));
  tree.modules.forEach(([, node], i) => {
    const m = modules[i]!;
    for (const [k, j] of node.parameters) m._entries.push([k, tensors[j]!]);
    for (const [k, j] of node.buffers) m._entries.push([k, tensors[j]!]);
    for (const [k, j] of node.children) m._entries.push([k, modules[j]!]);
    // Python's attribute access: model.conv1, model.fc.weight (names the class already has stay its own)
    for (const [k, v] of m._entries) if (!(k in m)) Object.defineProperty(m, k, { value: v, enumerable: false, configurable: true, writable: true });
  });
  for (const m of modules) {
    const seen = new Set<Tensor>();
    for (const sub of m.modules()) for (const [, t] of [...sub._ownParameters(), ...sub._ownBuffers()]) seen.add(t);
    m._tensors = [...seen];
    hold(m._obj, m._tensors); // Python code given this module may change them (touched.ts)
  }
  return modules[0]!;
}

declare module './module.js' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Module {
    /**
     * Wrap a Python torch.nn.Module (a torch.py proxy) as a TS nn.Module: parameters by handle,
     * forward in Python, trainable by TS optimizers. See nn/python_module.ts.
     */
    let fromPython: (obj: PyProxy | PyObject | PythonModule) => Promise<PythonModule>;
  }
}

(Module as unknown as { fromPython: typeof fromPython }).fromPython = fromPython;
