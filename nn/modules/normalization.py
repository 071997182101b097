"""Normalization layers: BatchNorm1d for (N, C) features, BatchNorm2d for (N, C, H, W) images,
LayerNorm over the last axes of each sample."""
from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.ops.batchnorm import BatchNormTrain

from .. import functional as F

from .module import Module, Parameter


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share: normalise each channel (axis 1) over every
    other axis, then scale by ``weight`` and shift by ``bias``.

    ``weight`` and ``bias`` are the learned gamma and beta (PyTorch's names, so state
    dicts carry over). Training mode uses the batch's mean and biased variance, and
    updates ``running_mean`` and ``running_var`` (with the unbiased variance) by
    ``momentum``; eval mode uses the running averages. ``momentum=None`` averages
    over all batches seen, as PyTorch.
    """

    rank, layout = 2, "(N, {})"  # the input's rank and shape (for errors); BatchNorm2d's are 4, (N, C, H, W)

    def __init__(self, num_features: int, eps: float, momentum: float | None, dtype):
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        dtype = np.dtype(ag.get_default_dtype() if dtype is None else dtype)
        self.weight = Parameter(np.ones(num_features, dtype=dtype))
        self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
        self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
        self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))

    @property
    def gamma(self) -> Parameter:
        """The learned scale (``weight``)."""
        return self.weight

    @property
    def beta(self) -> Parameter:
        """The learned shift (``bias``)."""
        return self.bias

    def forward(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else self.weight._operand(x)
        expected = self.layout.format(self.num_features)
        if x.ndim != self.rank or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected input of shape {expected}, got {x.shape}")
        n = x.size // self.num_features
        if self.training and n < 2:
            raise ValueError(f"{type(self).__name__}: training needs more than one value per channel, "
                             f"got input of shape {x.shape}")
        if self.training and x.dtype == self.weight.dtype:
            # one fused node (autograd/ops/batchnorm.py), which hands back the batch's statistics
            stats = []
            out = BatchNormTrain.apply(x, self.weight, self.bias, eps=self.eps, stats=stats)
            mean, variance = stats[0]
            self._track(mean, variance * (n / (n - 1)))
            return out
        # Per-channel arrays are viewed as (C, 1, 1) against (N, C, H, W); as they are against (N, C).
        view = (-1,) + (1,) * (x.ndim - 2)
        weight, bias = (self.weight, self.bias) if x.ndim == 2 else (self.weight.reshape(view),
                                                                      self.bias.reshape(view))
        if not self.training:
            scale = (1.0 / np.sqrt(self.running_var + self.eps)).reshape(view)
            return (x - self.running_mean.reshape(view)) * (weight * scale) + bias
        axes = (0,) + tuple(range(2, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        variance = (centred * centred).mean(axis=axes, keepdims=True)
        out = centred * (variance + self.eps) ** -0.5 * weight + bias
        self._track(mean.data.reshape(-1), variance.data.reshape(-1) * (n / (n - 1)))
        return out

    def _track(self, mean: np.ndarray, unbiased_variance: np.ndarray) -> None:
        """Move the running averages towards this batch's statistics, in place."""
        self.num_batches_tracked += 1
        momentum = self.momentum if self.momentum is not None else 1.0 / int(self.num_batches_tracked)
        for running, value in ((self.running_mean, mean), (self.running_var, unbiased_variance)):
            running *= 1.0 - momentum
            running += momentum * value.astype(running.dtype, copy=False)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Normalise each feature of (N, C) inputs, then scale by ``weight`` and shift by ``bias``.

    Training mode uses the batch's statistics and updates the running averages; eval
    mode uses those (see ``_BatchNorm``; ``nn.BatchNorm2d`` is the same per channel of
    images).
    """

    def __init__(self, num_features: int, momentum: float | None = 0.1, eps: float = 1e-5, dtype=None):
        super().__init__(num_features, eps, momentum, dtype)



class BatchNorm2d(_BatchNorm):
    """Normalise each channel of (N, C, H, W) images over the batch and both spatial axes,
    then scale by ``weight`` and shift by ``bias`` (one each per channel).

    Training mode uses the batch's mean and biased variance and updates ``running_mean``
    and ``running_var`` (the variance unbiased) by ``momentum``: new = (1 - momentum) * old
    + momentum * batch; eval mode uses the running averages. State dict keys ``weight``,
    ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``, as PyTorch's.
    """

    rank, layout = 4, "(N, {}, H, W)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, dtype=None):
        super().__init__(num_features, eps, momentum, dtype)



class LayerNorm(Module):
    """Normalise each sample over its last ``len(normalized_shape)`` axes (mean 0, biased
    variance 1, ``eps`` inside the square root), then scale by ``weight`` (ones) and shift by
    ``bias`` (zeros), each of shape ``normalized_shape``, as PyTorch's. No running statistics:
    training and eval are the same. ``elementwise_affine=False`` drops both parameters,
    ``bias=False`` only the shift.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=None):
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = tuple(int(n) for n in shape), eps, elementwise_affine
        dtype = np.dtype(ag.get_default_dtype() if dtype is None else dtype)
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype)) if elementwise_affine and bias else None

    def forward(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        dims = len(self.normalized_shape)
        if x.ndim < dims or tuple(x.shape[x.ndim - dims:]) != self.normalized_shape:
            raise ValueError(f"LayerNorm: input of shape {x.shape} does not end in normalized_shape "
                             f"{self.normalized_shape}")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
