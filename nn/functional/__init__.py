"""nn.functional (F): layers and losses as functions of Tensors, PyTorch's names and layouts.

    from nn import functional as F
    loss = F.cross_entropy(F.linear(x, W, b), labels)

- ``layers.py``: linear, sigmoid, relu, tanh, silu, leaky_relu, softmax, log_softmax, dropout;
- ``conv.py``: conv2d, conv1d, max_pool2d, avg_pool2d, unfold, fold;
- ``loss.py``: the losses, checked, then one fused node each from ``loss_ops.py``; ``nll.py``:
  nll_loss and the cross-entropy with class weights or ignored targets, from engine ops;
- ``shaping.py``: pad, one_hot;
- ``sequence.py``: embedding, layer_norm, gelu, scaled_dot_product_attention.
"""
from .conv import avg_pool2d, conv1d, conv2d, fold, max_pool2d, unfold
from .layers import dropout, leaky_relu, linear, log_softmax, relu, sigmoid, silu, softmax, tanh
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_loss, mse_loss,
                   nll_loss)
from .sequence import embedding, gelu, layer_norm, scaled_dot_product_attention
from .shaping import one_hot, pad

__all__ = ["linear", "sigmoid", "relu", "tanh", "silu", "leaky_relu", "softmax", "log_softmax", "dropout",
           "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
           "l1_loss", "conv2d", "conv1d", "max_pool2d", "avg_pool2d", "unfold", "fold", "pad", "one_hot",
           "embedding", "layer_norm", "gelu", "scaled_dot_product_attention"]
