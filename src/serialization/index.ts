/** torch.save / torch.load: real .pt files through the runtime's torch, weights-only loading. */
export { save, type SaveOptions } from './save.js';
export { load, type LoadOptions } from './load.js';
