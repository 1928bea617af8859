/**
 * torch.load(f): the runtime's own torch.load with weights_only=True reads the file, so
 * Python-written checkpoints load as they are, and a file holding any other pickled object is
 * refused by torch's restricted unpickler instead of running its code. weights_only=false is
 * refused here too (load such files in Python).
 */
import { ArgumentError } from '../errors.js';
import { isKwargs } from '../ops/signature.js';
import { pyCall } from '../py/object.js';
import { treeValue } from '../py/tree.js';
import { toPython } from '../py/to_python.js';
import { fileArgument } from './save.js';
import type { PyObject } from '../py/object.js';
import type { PyProxy } from '../py/proxy.js';
import { HELPER } from '../transport/protocol.js';

export interface LoadOptions {
  /** Where tensors go: a device ('cpu', 'cuda:0'), or a Map/object remapping saved devices. */
  map_location?: string | Map<string, string> | Record<string, string> | null;
  /** Only true (the default) is accepted: loading never unpickles arbitrary objects. */
  weights_only?: boolean;
  /** Map the file into memory instead of reading it (torch's mmap=True). */
  mmap?: boolean;
}

const KEYWORDS = new Set(['map_location', 'weights_only', 'mmap']);

/**
 * Reads what torch.save wrote. Tensors come back as Tensor; dicts as plain objects in the
 * file's order (a state dict loads straight into Module.load_state_dict), or as a Map when
 * their keys are not all strings or a JS object would reorder them; lists and tuples as
 * arrays; numbers, strings, booleans, null as themselves; dtypes as torch dtypes.
 * torch.load(f, map_location?) or torch.load(f, {map_location, weights_only, mmap}).
 */
export async function load(f: string | PyProxy | PyObject, ...args: [LoadOptions?] | [string | Map<string, string> | null, LoadOptions?]): Promise<unknown> {
  const kw: LoadOptions = {};
  const last = args[args.length - 1];
  const options = args.length > 0 && isKwargs(last) ? (last as LoadOptions) : undefined;
  const positional = options ? args.slice(0, -1) : args;
  if (positional.length > 1) throw new ArgumentError(`torch.load() takes f and map_location positionally, got ${positional.length + 1} positional arguments`);
  if (positional.length === 1) kw.map_location = positional[0] as LoadOptions['map_location'];
  for (const [k, v] of Object.entries(options ?? {})) {
    if (!KEYWORDS.has(k)) throw new ArgumentError(`torch.load() got an unexpected keyword argument '${k}'`);
    if (k === 'map_location' && positional.length === 1) throw new ArgumentError("torch.load() got multiple values for argument 'map_location'");
    (kw as Record<string, unknown>)[k] = v;
  }
  if (kw.weights_only !== undefined && kw.weights_only !== true) {
    throw new ArgumentError(
      'torch.load(): weights_only must be true. Loading from TypeScript never unpickles arbitrary objects (that can run any code); load such a file in Python.',
    );
  }
  const file = fileArgument(f, 'load');
  const wireKw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(kw)) if (v !== undefined) wireKw[k] = toPython(v, `torch.load() keyword argument ${k}`).value;
  const loaded = pyCall(HELPER.load, [file], wireKw, `torch.load(${typeof f === 'string' ? JSON.stringify(f) : 'f'})`);
  try {
    return await treeValue(loaded);
  } finally {
    loaded.dispose();
  }
}
