/**
 * torch.autograd: backward() and grad(). Importing this module also installs Tensor.backward,
 * Tensor.grad, requires_grad_() and retain_grad() (backward.ts, grad.ts).
 */
import './grad.js';
import { backward, grad } from './backward.js';

export const autograd = { backward, grad };
export type { BackwardOptions, GradOptions } from './backward.js';
