"""The safetensors format for checkpoints (``nn.save(model, "m.safetensors")``), via its NumPy API.

The names are the state dict's (PyTorch's: ``0.weight``, ``1.running_mean``) and the
arrays are stored row-major (nn.Linear may keep its weight column-major in memory: the
file holds the same (out, in) matrix), so ``torch_model.load_state_dict(
safetensors.torch.load_file(path))`` loads a file written here, and a file written by
``safetensors.torch.save_file`` loads here. ``nn/io/checkpoint.py`` chooses this format
by the file's extension; it does the atomic write and the all-or-nothing load.
"""
from __future__ import annotations

import json

import numpy as np

SUFFIX = ".safetensors"


def _numpy_api():
    try:
        from safetensors import numpy as safetensors_numpy
    except ImportError as error:
        raise ImportError("saving and loading .safetensors files needs the safetensors package: "
                          "pip install safetensors (or dagrad's extra: pip install -e '.[safetensors]')") from error
    return safetensors_numpy


def to_bytes(arrays: dict) -> bytes:
    """The safetensors file holding ``arrays`` (name -> ndarray), C-ordered.

    Numeric arrays are the file's tensors; text (an optimizer's ``type``) goes to its
    string metadata, which has room for nothing else.
    """
    api = _numpy_api()
    tensors, texts = {}, {"format": "pt"}  # the names and layouts are PyTorch's (Hugging Face looks here)
    for name, array in arrays.items():
        if array.dtype.kind == "U" and array.ndim == 0 and name not in texts:
            texts[name] = str(array)
        elif array.dtype.kind in "biufc":
            tensors[name] = np.asarray(array, order="C")
        else:
            raise ValueError(f"nn.save: the safetensors format holds numeric arrays and single strings only, "
                             f"and {name!r} is {array.dtype} of shape {array.shape}; save to a .npz file instead")
    return api.save(tensors, metadata=texts)


def from_bytes(data: bytes) -> dict:
    """name -> ndarray from the bytes of a safetensors file (raises on a corrupt one); the
    metadata's strings come back as 0-d text arrays, as ``.npz`` gives them."""
    arrays = dict(_numpy_api().load(data))  # checks the whole file
    header_size = int.from_bytes(data[:8], "little")
    texts = json.loads(data[8:8 + header_size]).get("__metadata__") or {}
    arrays.update({name: np.asarray(text) for name, text in texts.items() if name != "format"})
    return arrays
