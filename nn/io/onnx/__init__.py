"""ONNX export: ``export_onnx`` traces a model's graph and writes it for onnxruntime.

- ``export.py``: the writer; ``trace.py``: the ops behind a forward pass and its batch axes;
- ``ops.py``: one converter per engine op; ``patterns.py``: op patterns written as one ONNX
  node (batch norm).
"""
from .export import export_onnx

__all__ = ["export_onnx"]
