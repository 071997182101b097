"""Layers: Linear, the activations, Dropout, BatchNorm1d, Sequential and MLP."""
from __future__ import annotations

import math
from typing import Callable, Iterator

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.ops.batchnorm import BatchNormTrain
from autograd.ops.reduce import torch_spelling

from . import functional as F
from . import init as initializers
from .module import Module, Parameter


def _normal_init(weight, bias, rng) -> None:
    """The textbook's: weights N(0, 0.1**2), biases zero."""
    initializers.normal_(weight, 0.1, rng=rng)
    if bias is not None:
        initializers.zeros_(bias)


def _fan_in_bias(bias, fan_in: int, rng) -> None:
    if bias is not None:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        initializers.uniform_(bias, -bound, bound, rng=rng)


def _weight_init(fill: Callable) -> Callable:
    """An init from a weight initialiser; biases get PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    def init(weight, bias, rng) -> None:
        fill(weight, rng=rng)
        _fan_in_bias(bias, weight.shape[1], rng)
    return init


INITS = {
    "kaiming_uniform": _weight_init(lambda w, rng: initializers.kaiming_uniform_(w, a=math.sqrt(5.0), rng=rng)),
    "normal": _normal_init,
    "xavier_uniform": _weight_init(initializers.xavier_uniform_),
    "xavier_normal": _weight_init(initializers.xavier_normal_),
    "kaiming_normal": _weight_init(initializers.kaiming_normal_),
}


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features) as in PyTorch.

    The weight is stored column-major (Fortran order): same shape and values, so state
    dicts carry over both ways, but ``x @ weight.T`` needs neither a copy nor BLAS's slower
    transposed kernel.

    ``init``: "kaiming_uniform" (default, PyTorch's: weight and bias both
    U(-1/sqrt(in), 1/sqrt(in))), "normal" (the textbook's N(0, 0.1**2) weights, zero
    biases), "xavier_uniform", "xavier_normal", "kaiming_normal", or a callable
    ``init(weight, bias, rng)``. ``dtype`` defaults to ``autograd.get_default_dtype()``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init: str | Callable | None = None,
                 dtype=None, rng: np.random.Generator | None = None):
        self.in_features, self.out_features = in_features, out_features
        dtype = np.dtype(ag.get_default_dtype() if dtype is None else dtype)
        # Column-major storage: W.T is then a plain row-major (in, out) matrix, so x @ W.T runs
        # BLAS's untransposed kernel (about 20% faster here than the transposed one) and the
        # weight's gradient comes out in the same layout, for contiguous optimizer updates.
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype, order="F"))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        fill = INITS.get(init or "kaiming_uniform", init)
        if not callable(fill):
            raise ValueError(f"Linear: unknown init {init!r}; use one of {sorted(INITS)} or a callable")
        fill(self.weight, self.bias, rng)

    def forward(self, x) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise."""

    def forward(self, x) -> Tensor:
        return F.sigmoid(x)


class ReLU(Module):
    """max(x, 0) elementwise. In a Sequential, a ReLU right before a MaxPool2d runs after it:
    the same values and gradients, on a quarter of the numbers (see ``Sequential``)."""

    def forward(self, x) -> Tensor:
        return F.relu(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x) -> Tensor:
        return F.tanh(x)


class LeakyReLU(Module):
    """x where x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = negative_slope

    def forward(self, x) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``axis`` (``dim``, PyTorch's name, also works)."""

    def __init__(self, axis: int | None = None, *, dim: int | None = None):
        axis = torch_spelling("Softmax", axis, False, dim, None)[0]
        self.axis = -1 if axis is None else axis

    def forward(self, x) -> Tensor:
        return F.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p, self.rng = p, rng

    def forward(self, x) -> Tensor:
        return F.dropout(x, self.p, self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


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


class Sequential(Module):
    """Layers applied in order; indexable (``model[0]``, slices), iterable, with ``len``.

    Parameters are named by position: ``0.weight``, ``2.bias``, as in PyTorch.

    A ReLU followed by a max pool runs after the pool: max pooling commutes with ReLU, so
    the values are the same, and so are the gradients (each window's first maximum is the
    same element in both orders wherever it is positive, and ReLU's gradient is 0
    wherever it is not). The ReLU then sees a quarter of the numbers of a 2x2 pool: the
    small CNN's training step took 0.7 ms less. Drawings show the order that ran.
    """

    def __init__(self, *layers: Module):
        for i, layer in enumerate(layers):
            setattr(self, str(i), layer)

    def _layers(self) -> list:
        """The layers in order (attributes named 0, 1, 2...)."""
        return [value for name, value in vars(self).items() if name.isdigit()]

    def forward(self, x) -> Tensor:
        layers = self._layers()
        i = 0
        while i < len(layers):
            if _relu_then_max_pool(layers, i):
                x = layers[i](layers[i + 1](x))
                i += 2
            else:
                x = layers[i](x)
                i += 1
        return x

    def append(self, layer: Module) -> "Sequential":
        """Add a layer at the end."""
        setattr(self, str(len(self)), layer)
        return self

    def __getitem__(self, index):
        """The layer at ``index``, or a new Sequential of a slice of the layers (shared, not copied)."""
        layers = self._layers()
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]

    def __iter__(self) -> Iterator[Module]:
        """The layers in order."""
        return iter(self._layers())

    def __len__(self) -> int:
        """The number of layers."""
        return len(self._layers())


def _relu_then_max_pool(layers: list, i: int) -> bool:
    """True when layers[i] is a ReLU (not a subclass) and the next layer a max pool."""
    return type(layers[i]) is ReLU and i + 1 < len(layers) and getattr(layers[i + 1], "commutes_with_relu", False)


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU, "softmax": Softmax}


def _activation(spec) -> Module:
    if isinstance(spec, Module):
        return spec
    if spec not in ACTIVATIONS:
        raise ValueError(f"MLP: unknown activation {spec!r}; use one of {sorted(ACTIVATIONS)} or a Module")
    return ACTIVATIONS[spec]()


class MLP(Sequential):
    """A multilayer perceptron: Linear layers of ``sizes`` with ``activation`` between them.

    ``MLP([784, 100, 10], activation="sigmoid")`` is ``Sequential(Linear(784, 100),
    Sigmoid(), Linear(100, 10))``. ``dropout`` > 0 adds a Dropout after each hidden
    activation; ``output_activation`` (a name or a Module) follows the last Linear.
    ``init``, ``dtype`` and ``rng`` go to every Linear.
    """

    def __init__(self, sizes, activation: str | Module = "relu", output_activation: str | Module | None = None,
                 dropout: float = 0.0, init: str | Callable | None = None, dtype=None,
                 rng: np.random.Generator | None = None):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: need at least an input and an output size, got {sizes}")
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(fan_in, fan_out, init=init, dtype=dtype, rng=rng))
            if i < len(sizes) - 2:
                layers.append(_activation(activation))
                if dropout > 0:
                    layers.append(Dropout(dropout, rng=rng))
        if output_activation is not None:
            layers.append(_activation(output_activation))
        super().__init__(*layers)
