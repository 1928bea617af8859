/**
 * torch.nn: Module, Parameter, init, the layers and losses (one module a file under
 * modules/, like torch/nn/modules), and nn.utils.
 */
export { Module, type StateDict, type IncompatibleKeys } from './module.js';
export { Parameter } from './parameter.js';
export * as init from './init.js';
export { Identity, Linear } from './modules/linear.js';
