/**
 * The op surface: the mirror's rule families (each registers its rules by name) and the API
 * generated from stubs/spec.json, plus the hand-written parts (torch.tensor & co.).
 */
import './pointwise.js';
import './pointwise_more.js';
import './reduction.js';
import './linalg.js';
import './shape.js';
import './gather_scatter.js';
import './conversion.js';
import './creation.js';
import './nn_functional.js';
import '../generated/tensor_methods.js';

export * as generatedTorch from '../generated/torch.js';
export * as nn_functional from '../generated/nn_functional.js';
export * as linalg from '../generated/linalg.js';
export * as fft from '../generated/fft.js';
export * as special from '../generated/special.js';
