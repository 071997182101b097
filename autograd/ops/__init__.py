"""Every op of the engine, one class each, forward and gradient rule side by side."""
from .elementwise import Abs, Add, Clamp, Cast, Div, Exp, Log, Mul, Neg, Pow, ReLU, Sigmoid, Sqrt, Sub, Tanh, Where
from .linalg import MatMul
from .reduce import Max, Mean, Min, Sum
from .shape import BroadcastTo, Concatenate, GetItem, Repeat, Reshape, ScatterAdd, Stack, Transpose

__all__ = ["Add", "Cast", "Sub", "Neg", "Mul", "Div", "Pow", "Exp", "Log", "Sigmoid", "Tanh", "ReLU", "Where",
           "MatMul", "Sum", "Mean", "Max", "Reshape", "Transpose", "BroadcastTo", "GetItem",
           "ScatterAdd", "Concatenate", "Stack", "Repeat", "Abs", "Sqrt", "Clamp", "Min"]
