"""dagrad's nn: modules, layers, losses, optimizers and data loading on top of ``autograd``.

    import nn
    from nn import functional as F
    model = nn.MLP([784, 100, 10], activation="relu")
    loss = F.cross_entropy(model(Tensor(X_batch)), y_batch)
"""
from . import data, datasets, functional, init, optim
from . import callbacks  # Keras-style training: model.compile/fit, nn.callbacks.EarlyStopping, ...
from .checkpoint import CheckpointError, load, load_state, save, save_state
from .export import export_onnx
from .conv import AvgPool2d, BatchNorm2d, Conv2d, Flatten, MaxPool2d
from .init import manual_seed
from .layers import (MLP, BatchNorm1d, Dropout, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Softmax,
                     Tanh)
from .module import LoadResult, Module, Parameter, StateDictError
from .viz import make_dot

# PyTorch's spellings: containers, loss modules, nn.utils
from . import utils
from .containers import ModuleDict, ModuleList
from .loss_modules import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss

__all__ = [
    "Module", "Parameter", "StateDictError", "LoadResult", "Linear", "Sigmoid", "ReLU", "Tanh", "LeakyReLU",
    "Softmax", "Dropout", "BatchNorm1d", "Sequential", "MLP", "save", "load", "save_state", "load_state",
    "CheckpointError", "make_dot", "manual_seed", "functional", "optim", "init", "data", "datasets",
    "utils", "ModuleList", "ModuleDict", "CrossEntropyLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
    "callbacks",
]
__all__ += ["export_onnx"]
__all__ += ["Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "BatchNorm2d"]
