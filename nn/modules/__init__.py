"""nn.modules: Module and Parameter, and the layers by kind (PyTorch's torch.nn.modules).

- ``module.py``: Module (the tree of parameters, buffers, state dicts) and Parameter, with
  PyTorch's extra methods (``torch_methods.py``) and Keras' (``keras_methods.py``);
- ``linear.py`` (Linear, Identity), ``activation.py``, ``dropout.py``, ``mlp.py``: dense layers;
- ``conv.py`` (Conv2d, Conv1d), ``pooling.py``, ``flatten.py``: image and sequence layers;
  ``normalization.py``: batch norm and LayerNorm;
- ``container.py``: Sequential, ModuleList, ModuleDict; ``loss.py``: the loss modules;
- ``sparse.py``: Embedding; ``rnn.py``: RNN, LSTM, GRU and their cells; ``attention.py``:
  MultiheadAttention; GELU in ``activation.py``.

Layers hold parameters and check their input; the work is ``nn.functional``'s.
"""
from .attention import MultiheadAttention
from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .keras_methods import use_trainer
from .linear import Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .mlp import MLP
from .module import LoadResult, Module, Parameter, StateDictError
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .sparse import Embedding

__all__ = [
    "Module", "Parameter", "StateDictError", "LoadResult", "use_trainer",
    "Linear", "Sigmoid", "ReLU", "Tanh", "LeakyReLU", "Softmax", "Dropout", "MLP",
    "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "BatchNorm1d", "BatchNorm2d",
    "Sequential", "ModuleList", "ModuleDict",
    "CrossEntropyLoss", "MSELoss", "BCELoss", "BCEWithLogitsLoss",
    "Identity", "SiLU", "LogSoftmax", "Conv1d", "NLLLoss", "L1Loss",
    "Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "LayerNorm", "GELU",
    "MultiheadAttention",
]
