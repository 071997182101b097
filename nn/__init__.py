"""dagrad's nn: modules, layers, losses, optimizers and data loading on top of ``autograd``.

    import nn
    from nn import functional as F
    model = nn.MLP([784, 100, 10], activation="relu")
    loss = F.cross_entropy(model(Tensor(X_batch)), y_batch)
"""
from . import data, datasets, functional, init, optim
from .checkpoint import CheckpointError, load, load_state, save, save_state
from .conv import AvgPool2d, BatchNorm2d, Conv2d, Flatten, MaxPool2d
from .init import manual_seed
from .layers import (MLP, BatchNorm1d, Dropout, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax,
                     Tanh)
from .module import LoadResult, Module, Parameter, StateDictError
from .viz import make_dot

__all__ = [
    "Module", "Parameter", "StateDictError", "LoadResult", "Linear", "Sigmoid", "ReLU", "Tanh", "LeakyReLU",
    "Softmax", "Dropout", "BatchNorm1d", "Sequential", "MLP", "save", "load", "save_state", "load_state",
    "CheckpointError", "make_dot", "manual_seed", "functional", "optim", "init", "data", "datasets",
]
__all__ += ["Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "BatchNorm2d"]
