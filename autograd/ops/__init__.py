"""Every op of the engine, one class each, forward and gradient rule side by side."""
from .conv import Conv2d, Fold, Unfold
from .elementwise import Add, Cast, Div, Exp, Log, Mul, Neg, Pow, ReLU, Sigmoid, Sub, Tanh, Where
from .linalg import MatMul
from .pool import AvgPool2d, MaxPool2d
from .reduce import Max, Mean, Sum
from .shape import BroadcastTo, Concatenate, GetItem, Repeat, Reshape, ScatterAdd, Stack, Transpose

# ops added for PyTorch's spellings (autograd/torch_methods.py)
from .elementwise import Abs, Clamp, Sqrt
from .reduce import Min

# ops added for issues 21 and 24 (autograd/torch_shape_methods.py, ag.einsum)
from .cumulative import Cumsum
from .einsum import Einsum

__all__ = ["Add", "Cast", "Sub", "Neg", "Mul", "Div", "Pow", "Exp", "Log", "Sigmoid", "Tanh", "ReLU", "Where",
           "MatMul", "Sum", "Mean", "Max", "Reshape", "Transpose", "BroadcastTo", "GetItem",
           "ScatterAdd", "Concatenate", "Stack", "Repeat"]
__all__ += ["Abs", "Sqrt", "Clamp", "Min"]
__all__ += ["Cumsum", "Einsum"]
__all__ += ["Conv2d", "Unfold", "Fold", "MaxPool2d", "AvgPool2d"]

# sequence models (issues 20 and 21)
from .attention import MaskedSoftmax
from .causal_attention import CausalAttention
from .embedding import Embedding, EmbeddingGrad
from .gelu import GELU, NormalCDF
from .layer_norm import LayerNorm
from .recurrent import GRUCell, LSTMCell, RNNCell
__all__ += ["Embedding", "EmbeddingGrad", "GELU", "NormalCDF", "LayerNorm", "LSTMCell", "GRUCell", "RNNCell",
            "MaskedSoftmax", "CausalAttention"]
