/**
 * torchbridge: PyTorch for TypeScript.
 *
 *   import torch from 'torchbridge';
 *   const x = torch.randn(3, 4);
 *   console.log(await x.matmul(x.transpose(0, 1)).sum().item());
 */
import { torch } from './torch.js';

export default torch;
export { torch };
export { Tensor } from './tensor/tensor.js';
// torch.nn as a namespace, for types: `let model: nn.Sequential`
export * as nn from './nn/index.js';
export type { NestedList, Scalar } from './tensor/tensor.js';
export { DType } from './tensor/dtype.js';
export type { TensorData } from './tensor/data.js';
export type { RuntimeInfo, SessionOptions } from './session/session.js';
export type { PythonErrorInfo } from './errors.js';
export type { GradModeGuard } from './autograd/grad_mode.js';
export type { TensorLike } from './ops/from_data.js';
export type { CallOptions } from './ops/escape.js';
export type { CallsiteMode } from './session/callsites.js';
export type { TensorMeta } from './tensor/meta.js';
// torch.py proxies and the types generated stubs use (torchbridge-stubs)
export type { PyProxy } from './py/proxy.js';
export type * from './py/typed.js';
// indexing: the types of x.index(...) items and setitem values
export type { Index, IndexList, SetValue } from './ops/indexing.js';
export {
  TorchBridgeError,
  TorchError,
  ArgumentError,
  DisposedError,
  PendingMetadataError,
  RuntimeStartError,
  RuntimeConnectError,
  RuntimeDiedError,
  RuntimeLostError,
  MirrorMismatchError,
} from './errors.js';
