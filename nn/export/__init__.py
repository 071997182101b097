"""Models out of the engine: ONNX export (``export_onnx``) and the safetensors format (by ``nn.save``)."""
from .onnx import export_onnx

__all__ = ["export_onnx"]
