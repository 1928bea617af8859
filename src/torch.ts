/** The `torch` namespace, assembled from the folders that implement it. */
import * as dtypes from './tensor/dtype.js';
import { manual_seed } from './ops/creation.js';
import * as fromData from './ops/from_data.js';
import { generatedTorch, linalg, fft, special } from './ops/index.js';
import { call, callValue } from './ops/escape.js';
import { set_num_threads, get_num_threads } from './ops/threads.js';
import { Tensor } from './tensor/tensor.js';
import { init, shutdown, currentSession } from './session/current.js';
import { tidy, keep } from './memory/lifetime.js';
import { no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode } from './autograd/grad_mode.js';
// torch.autograd; importing it installs Tensor.backward, .grad, requires_grad_, retain_grad
import { autograd } from './autograd/index.js';
import * as errors from './errors.js';
import { setCallsiteMode } from './session/callsites.js';
import { mirror, strict } from './ops/dispatch.js';
import { READ } from './transport/protocol.js';
import { metaFromWire, type WireMeta } from './tensor/meta.js';
// Indexing: torch.slice; importing it installs x.index / x.i / x.setitem and the index_put_ rules.
import { slice } from './ops/indexing.js';
import { optim } from './optim/index.js';
import * as nnModules from './nn/index.js';
import { py } from './py/index.js';
import { save, load } from './serialization/index.js';
import { Generator } from './random/generator.js';
import * as utils from './utils/index.js';

/** Wait until every queued op has run; throws the first error not yet reported. Takes `{ signal }` like every read. */
async function sync(opts?: { signal?: AbortSignal }): Promise<void> {
  await currentSession().sync(opts?.signal);
}

/**
 * Stop the op the runtime is running and every op queued before this call, as Jupyter's
 * interrupt does: they fail with Python's KeyboardInterrupt at the next read; the runtime, the
 * session and its tensors stay. Resolves with whether an op was running.
 */
async function interrupt(): Promise<boolean> {
  return currentSession().interrupt();
}

/** Handles held by this client, and what the runtime holds (live tensors, bytes, shared memory). */
async function memory(): Promise<{ handles: number; tensors: number; bytes: number; shared_bytes: number }> {
  const s = currentSession();
  const st = await s.stats();
  return { handles: st.handles, tensors: st.tensors, bytes: st.bytes, shared_bytes: st.shared_bytes };
}

/** The runtime process: ping (answered even while a long op runs), pid, kill (for tests). */
const runtime = {
  ping: () => currentSession().ping(),
  get pid() {
    return currentSession().pid;
  },
  /** The runtime's own report of a tensor's metadata (what the mirror predicts), for checking. */
  meta: async (t: Tensor) => {
    t._check();
    const w = (await t._s.read(t.id, READ.META)) as WireMeta;
    return metaFromWire(w);
  },
  /** Kill the runtime process (as a crash would); pending reads reject with RuntimeDiedError. */
  kill: (signal: NodeJS.Signals = 'SIGKILL') => currentSession().kill(signal),
};

/** A generated module's functions, without its GENERATED_NAMES bookkeeping export. */
function stripNames<T extends { GENERATED_NAMES: readonly string[]; LIST_RETURNING: readonly string[] }>(
  m: T,
): Omit<T, 'GENERATED_NAMES' | 'LIST_RETURNING'> {
  const { GENERATED_NAMES: _n, LIST_RETURNING: _l, ...fns } = m;
  return fns;
}

export const torch = {
  // dtypes, as torch.float32 etc.
  bool: dtypes.bool,
  uint8: dtypes.uint8,
  int8: dtypes.int8,
  int16: dtypes.int16,
  int32: dtypes.int32,
  int64: dtypes.int64,
  uint16: dtypes.uint16,
  uint32: dtypes.uint32,
  uint64: dtypes.uint64,
  float16: dtypes.float16,
  bfloat16: dtypes.bfloat16,
  float32: dtypes.float32,
  float64: dtypes.float64,
  complex64: dtypes.complex64,
  complex128: dtypes.complex128,
  ...dtypes.ALIASES,
  get_default_dtype: dtypes.get_default_dtype,
  dtype: dtypes.DType,
  Tensor,

  // lifecycle
  init,
  shutdown,
  sync,
  interrupt,
  memory,
  runtime,
  set_callsites: setCallsiteMode,
  /** Strict mode: the runtime reports every mirrored result's metadata and a disagreement throws. */
  set_strict: (on: boolean) => {
    strict.enabled = on;
  },
  /** Switch the local mirror off (to measure its cost): metadata then comes from ready(). */
  set_mirror: (on: boolean) => {
    mirror.enabled = on;
  },

  // lifetime
  tidy,
  keep,

  // grad mode
  no_grad,
  enable_grad,
  set_grad_enabled,
  is_grad_enabled,
  inference_mode,
  autograd,

  // torch.* generated from torch's own signatures (stubs/spec.json), then the hand-written ones
  ...stripNames(generatedTorch),
  manual_seed,
  Generator,
  set_num_threads,
  get_num_threads,
  ...fromData,
  // indexing: x.index(0, torch.slice(1, 3)) is x[0, 1:3]
  slice,
  nn: nnModules,
  linalg: stripNames(linalg),
  fft: stripNames(fft),
  special: stripNames(special),
  // torch.utils.data: Dataset, DataLoader, random_split...
  utils,
  optim,
  // Python objects (torch.py.import) and .pt files
  py,
  save,
  load,
  // escape hatch
  call,
  callValue,

  errors,
};

export type Torch = typeof torch;
