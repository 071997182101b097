"""nn.training: the Keras-style loop behind ``model.compile``, ``fit``, ``evaluate``, ``predict``.

- ``compiling.py``: the optimizer, loss and metrics, from objects or names;
- ``fit.py``: fit (epochs of batches, callbacks, Ctrl-C), evaluate, predict;
- ``checks.py``: every argument checked before the first batch.

Every Module has these as methods (``nn/modules/keras_methods.py``), given this package
by ``nn/__init__.py``; the layers never import it.
"""
from .compiling import compile_model
from .fit import evaluate, fit, predict

__all__ = ["compile_model", "fit", "evaluate", "predict"]
