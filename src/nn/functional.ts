/**
 * torch.nn.functional: generated from torch's signatures (src/generated/nn_functional.ts); the
 * mirror's rules for it are in src/ops/nn_functional.ts.
 */
import '../ops/index.js';
import * as generated from '../generated/nn_functional.js';

const { GENERATED_NAMES: _names, LIST_RETURNING: _lists, ...fns } = generated;
export const functional = fns;
