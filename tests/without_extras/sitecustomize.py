"""Run Python as if only ``pip install -e ".[dev]"`` had been done: the optional extras do not import.

``PYTHONPATH=tests/without_extras python -m pytest`` (a step of .ci/run) then checks that every
test needing matplotlib, tqdm, torch, onnx, onnxruntime, safetensors or mpi4py skips instead of failing.
A name set to None in sys.modules makes ``import name`` raise ImportError (so
``pytest.importorskip`` skips) and ``importlib.util.find_spec(name)`` return None, as when absent.
"""
import sys

OPTIONAL = ("matplotlib", "tqdm", "torch", "onnx", "onnxruntime", "safetensors", "mpi4py")

for name in OPTIONAL:
    sys.modules[name] = None
