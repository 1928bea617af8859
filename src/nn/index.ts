/**
 * torch.nn: Module, Parameter, init, the layers and losses (one module a file under
 * modules/, like torch/nn/modules), and nn.utils.
 */
export { Module, type StateDict, type IncompatibleKeys } from './module.js';
export { Parameter } from './parameter.js';
export { PythonModule } from './python_module.js';
export * as init from './init.js';
export { Identity, Linear } from './modules/linear.js';
export { Conv1d, Conv2d, ConvTranspose2d } from './modules/conv.js';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './modules/pooling.js';
export { BatchNorm1d, BatchNorm2d } from './modules/batchnorm.js';
export { LayerNorm, GroupNorm } from './modules/normalization.js';
export { Dropout } from './modules/dropout.js';
export { Embedding } from './modules/sparse.js';
export { Flatten, Unflatten } from './modules/flatten.js';
export { ReLU, GELU, SiLU, Tanh, Sigmoid, LeakyReLU, Softmax, LogSoftmax } from './modules/activation.js';
export { Sequential, ModuleList, ModuleDict } from './modules/container.js';
export { RNNBase, RNN, LSTM, GRU } from './modules/rnn.js';
export { MultiheadAttention } from './modules/multihead_attention.js';
export { TransformerEncoderLayer, TransformerEncoder } from './modules/transformer.js';
export {
  MSELoss,
  L1Loss,
  SmoothL1Loss,
  HuberLoss,
  CrossEntropyLoss,
  NLLLoss,
  BCELoss,
  BCEWithLogitsLoss,
  KLDivLoss,
} from './modules/loss.js';
export * as utils from './utils/index.js';
export { functional } from './functional.js';
