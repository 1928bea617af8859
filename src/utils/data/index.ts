/** torch.utils.data: datasets, samplers, DataLoader, collation. */
export { Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset, type DatasetRecipe } from './dataset.js';
export { random_split } from './dataset_split.js';
export { Sampler, SequentialSampler, RandomSampler, SubsetRandomSampler, BatchSampler, type RandomSamplerOptions } from './sampler.js';
export { DataLoader, type DataLoaderOptions } from './dataloader.js';
export { default_collate, default_convert, type Collated } from './collate.js';
export { get_worker_info, type WorkerInfo } from './worker_info.js';
export { DataLoaderWorkerError } from './worker_pool.js';
