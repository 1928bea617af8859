"""What nn modules do in Python between torch calls, run here so the client need not read
tensors back: cuDNN's weight packing for RNNs, BatchNorm's cumulative average. Reached from the
wire as 'tb.<name>' (pyobjects.HELPERS); parameters positional-only, like the other helpers."""

import torch


def rnn_flatten_weights(weights, mode, input_size, hidden_size, proj_size, num_layers, bias, batch_first, bidirectional, /):
    """What nn.RNNBase.flatten_parameters does to a module's weights: when they are all CUDA
    tensors of one dtype that cuDNN accepts, pack them in place into one buffer, which cuDNN
    would otherwise rebuild (and warn about) at every call. Anything else: nothing to do."""
    first = weights[0]
    for w in weights:
        if not w.is_cuda or w.dtype != first.dtype or not torch.backends.cudnn.is_acceptable(w):
            return
    if len({w.data_ptr() for w in weights}) != len(weights):  # aliased weights: cuDNN copies
        return
    from torch.backends.cudnn import rnn

    with torch.cuda.device_of(first), torch.no_grad():
        if torch._use_cudnn_rnn_flatten_weight():
            per_layer = (4 if bias else 2) + (1 if proj_size > 0 else 0)
            torch._cudnn_rnn_flatten_weight(
                weights, per_layer, input_size, rnn.get_cudnn_mode(mode), hidden_size, proj_size, num_layers, batch_first, bidirectional
            )


def batch_norm_cma(input, running_mean, running_var, num_batches_tracked, weight, bias, training, eps, /):
    """nn.BatchNorm's forward with momentum=None: the running statistics become the cumulative
    average, weighting this batch by 1 / num_batches_tracked, read here rather than in the client."""
    factor = 1.0 / float(num_batches_tracked)
    return torch.nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, factor, eps)
