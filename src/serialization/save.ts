/**
 * torch.save(obj, f): the runtime's own torch.save writes the file, so it is a real .pt file
 * that Python's torch.load reads (tensors with their dtype, shape and strides; dicts keep their
 * order). obj: a Tensor, or arrays, Maps and plain objects nesting tensors, numbers, strings,
 * booleans and null (a TypedArray saves as a tensor); a state dict from Module.state_dict() saves as Python's dict of tensors.
 */
import { resolve } from 'node:path';
import { ArgumentError } from '../errors.js';
import { isKwargs } from '../ops/signature.js';
import { PyObject, pyCall } from '../py/object.js';
import { toPython, proxyTarget } from '../py/to_python.js';
import type { PyProxy } from '../py/proxy.js';
import { HELPER } from '../transport/protocol.js';

export interface SaveOptions {
  /** Python's pickle_protocol (torch's default is 2). */
  pickle_protocol?: number;
  /** false writes torch's legacy (pre-1.6) format. */
  _use_new_zipfile_serialization?: boolean;
}

/**
 * Writes `obj` to `f`: a path (relative to this process's working directory) or a Python
 * file-like object (a torch.py proxy such as io.BytesIO()). Resolves when the file is written;
 * rejects with TorchError when torch cannot write it.
 */
export async function save(obj: unknown, f: string | PyProxy | PyObject, kwargs?: SaveOptions): Promise<void> {
  if (kwargs !== undefined && !isKwargs(kwargs)) throw new ArgumentError('torch.save(obj, f, {pickle_protocol}): the third argument is keyword arguments');
  for (const k of Object.keys(kwargs ?? {})) {
    if (k !== 'pickle_protocol' && k !== '_use_new_zipfile_serialization') throw new ArgumentError(`torch.save() got an unexpected keyword argument '${k}'`);
  }
  const file = fileArgument(f, 'save');
  const { value, temporaries } = toPython(obj, 'torch.save(obj)', 'tensor', 'refuse');
  const done = pyCall(HELPER.save, [value, file], kwargs ? { ...kwargs } : undefined, `torch.save(obj, ${typeof f === 'string' ? JSON.stringify(f) : 'f'})`);
  for (const t of temporaries) t.dispose();
  try {
    await done.value();
  } finally {
    done.dispose();
  }
}

/** A path made absolute here (the runtime's working directory may differ), or a Python file object. */
export function fileArgument(f: unknown, op: string): string | PyObject {
  if (typeof f === 'string') {
    if (f === '') throw new ArgumentError(`torch.${op}(): the file path is empty`);
    return resolve(f);
  }
  const target = typeof f === 'function' ? proxyTarget.get(f) : undefined;
  if (target) return target();
  if (f instanceof PyObject) return f;
  throw new ArgumentError(`torch.${op}(): f must be a file path or a Python file object (a torch.py proxy), got ${f === null ? 'null' : typeof f}`);
}
