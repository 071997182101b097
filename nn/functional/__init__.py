"""nn.functional (F): layers and losses as functions of Tensors, PyTorch's names and layouts.

    from nn import functional as F
    loss = F.cross_entropy(F.linear(x, W, b), labels)

- ``layers.py``: linear, sigmoid, relu, tanh, leaky_relu, softmax, log_softmax, dropout;
- ``conv.py``: conv2d, max_pool2d, avg_pool2d, unfold, fold;
- ``loss.py``: the losses, checked, then one fused node each from ``loss_ops.py``;
- ``sequence.py``: embedding, layer_norm, gelu, scaled_dot_product_attention.
"""
from .conv import avg_pool2d, conv2d, fold, max_pool2d, unfold
from .layers import dropout, leaky_relu, linear, log_softmax, relu, sigmoid, softmax, tanh
from .sequence import embedding, gelu, layer_norm, scaled_dot_product_attention
from .loss import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss

__all__ = ["linear", "sigmoid", "relu", "tanh", "leaky_relu", "softmax", "log_softmax", "dropout",
           "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
           "conv2d", "max_pool2d", "avg_pool2d", "unfold", "fold",
           "embedding", "layer_norm", "gelu", "scaled_dot_product_attention"]
