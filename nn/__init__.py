"""dagrad's nn: modules, layers, losses, optimizers and data loading on top of ``autograd``.

    import nn
    from nn import functional as F
    model = nn.MLP([784, 100, 10], activation="relu")
    loss = F.cross_entropy(model(Tensor(X_batch)), y_batch)

Subpackages, named as they are imported (imports point down this list, never up):
``functional`` (F), ``modules`` (every layer, re-exported here), ``optim``, ``data``,
``datasets``, ``io`` (save, load, export_onnx), ``distributed`` (data parallelism over
MPI), ``callbacks``, ``training`` (the loop behind ``model.fit``); ``init`` and ``utils``
are single files, as PyTorch's.
"""
from . import functional, init, optim, utils
from . import data, datasets
from . import callbacks, distributed, io, training
from .init import manual_seed
from .io import CheckpointError, export_onnx, load, load_state, save, save_state
from .modules import (MLP, AvgPool2d, BatchNorm1d, BatchNorm2d, BCELoss, BCEWithLogitsLoss, Conv1d, Conv2d,
                      CrossEntropyLoss, Dropout, Flatten, Identity, L1Loss, LeakyReLU, Linear, LoadResult,
                      LogSoftmax, MaxPool2d, Module, ModuleDict, ModuleList, MSELoss, NLLLoss, Parameter, ReLU,
                      Sequential, Sigmoid, SiLU, Softmax, StateDictError, Tanh, use_trainer)
from .modules import (GELU, GRU, LSTM, RNN, Embedding, GRUCell, LayerNorm, LSTMCell,
                      MultiheadAttention, RNNCell)
from .viz import make_dot

# Every Module's compile/fit/evaluate/predict run nn.training's loop; the layers never import it.
use_trainer(training)

__all__ = [
    "Module", "Parameter", "StateDictError", "LoadResult", "Linear", "Sigmoid", "ReLU", "Tanh", "LeakyReLU",
    "Softmax", "Dropout", "BatchNorm1d", "Sequential", "MLP", "save", "load", "save_state", "load_state",
    "CheckpointError", "make_dot", "manual_seed", "functional", "optim", "init", "data", "datasets",
    "utils", "ModuleList", "ModuleDict", "CrossEntropyLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
    "callbacks", "export_onnx", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "BatchNorm2d",
    "io", "training", "distributed", "Identity", "SiLU", "LogSoftmax", "Conv1d", "NLLLoss", "L1Loss",
    "Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "LayerNorm", "GELU",
    "MultiheadAttention",
]
