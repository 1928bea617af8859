/** torch.optim: optimizers and lr schedulers, executed by the runtime's real torch.optim. */
import { Optimizer } from './optimizer.js';
import { PythonOptimizer } from './python_optimizer.js';
import { SGD } from './sgd.js';
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import { RMSprop } from './rmsprop.js';
import { Adagrad } from './adagrad.js';
import * as lr_scheduler from './lr_scheduler/index.js';

export const optim = { Optimizer, PythonOptimizer, SGD, Adam, AdamW, RMSprop, Adagrad, lr_scheduler };

export { Optimizer, PythonOptimizer, SGD, Adam, AdamW, RMSprop, Adagrad, lr_scheduler };
export type { Params, ParamGroup, ParamGroupValue, OptimizerStateDict, ZeroGradOptions } from './optimizer.js';
export type { SGDOptions } from './sgd.js';
export type { AdamOptions } from './adam.js';
export type { AdamWOptions } from './adamw.js';
export type { RMSpropOptions } from './rmsprop.js';
export type { AdagradOptions } from './adagrad.js';
