"""nn.io: models and training state in and out of files, every write atomic.

- ``checkpoint.py``: nn.save / nn.load (``.npz``, or ``.safetensors`` by suffix) of modules,
  optimizers, schedules, or a dict of them;
- ``safetensors.py``: that format, PyTorch's names and layouts;
- ``atomic.py``: write to a temporary file beside the target, then rename;
- ``onnx/``: export_onnx.
"""
from .atomic import atomic_write, check_writable
from .checkpoint import CheckpointError, load, load_state, save, save_state
from .onnx import export_onnx

__all__ = ["save", "load", "save_state", "load_state", "CheckpointError", "atomic_write", "check_writable",
           "export_onnx"]
