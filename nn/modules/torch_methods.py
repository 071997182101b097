"""PyTorch's Module methods: to, float, double, requires_grad_, apply.

A mixin that Module inherits (as Tensor inherits autograd's ``TorchMethods``), built on
``parameters()``, ``modules()``, ``children()`` and the registered buffers.
"""
from __future__ import annotations

import numpy as np

from autograd import Tensor


def _device_name(value) -> str | None:
    """"cpu", "cuda"... for a device (a string or a torch.device), None for anything else (a dtype)."""
    name = str(value)
    if type(value).__name__ == "device" or (isinstance(value, str) and name.split(":")[0] in _DEVICES):
        return name.split(":")[0]
    return None


_DEVICES = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu", "hpu", "vulkan")


def _floating_dtype(dtype) -> np.dtype:
    """A NumPy floating dtype from a NumPy dtype, its name, or a torch dtype (``torch.float64``)."""
    name = str(dtype)
    try:
        dtype = np.dtype(name[len("torch."):] if name.startswith("torch.") else dtype)
    except TypeError:
        raise TypeError(f"to: expected a floating dtype or a device, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"to: parameters hold floating data, got dtype {dtype}")
    return dtype


class ModuleTorchMethods:
    """PyTorch-named Module methods (see the module docstring)."""

    def to(self, *args, dtype=None, device=None) -> "ModuleTorchMethods":
        """Cast to a floating ``dtype`` and/or move to ``device``, in place; returns the module.

        ``to(np.float64)``, ``to("float64")``, ``to(torch.float64)``, ``to("cpu")``,
        ``to("cpu", np.float32)``. dagrad runs on NumPy, so ``"cpu"`` is the only device
        and any other raises ValueError. See ``double()`` for what is cast.
        """
        for arg in args:
            if _device_name(arg) is None:
                dtype = arg
            else:
                device = arg
        if device is not None and _device_name(device) != "cpu":
            raise ValueError(f"{type(self).__name__}.to: dagrad runs on the CPU (NumPy); there is no device "
                             f"{str(device)!r}")
        return self if dtype is None else self._cast(_floating_dtype(dtype))

    def float(self) -> "ModuleTorchMethods":
        """Cast parameters and floating buffers to float32 in place (see ``double``); returns the module."""
        return self._cast(np.dtype(np.float32))

    def double(self) -> "ModuleTorchMethods":
        """Cast parameters and floating buffers to float64 in place; returns the module.

        Each Parameter stays the same object (its ``data`` and any ``grad`` are replaced),
        and keeps its memory layout (a float32 ``nn.Linear``'s column-major weight stays so). Cast
        before making the optimizer, whose scratch arrays keep the old dtype.
        """
        return self._cast(np.dtype(np.float64))

    def _cast(self, dtype: np.dtype) -> "ModuleTorchMethods":
        for p in self.parameters():
            p.data = p.data.astype(dtype, order="K", copy=False)
            if p.grad is not None:
                p.grad = Tensor._result(np.asarray(p.grad.data).astype(dtype, order="K", copy=False), None)
        for module in self.modules():
            for name in vars(module).get("_buffer_names", ()):
                value = getattr(module, name)
                if value.dtype.kind == "f":
                    setattr(module, name, value.astype(dtype, order="K", copy=False))
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "ModuleTorchMethods":
        """Set ``requires_grad`` on every parameter (False freezes them); returns the module."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def apply(self, fn) -> "ModuleTorchMethods":
        """Call ``fn(module)`` on every sub-module, children first, then on this one; returns it.

        As PyTorch's, e.g. ``model.apply(init_weights)`` with a function that checks
        ``isinstance(module, nn.Linear)``.
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self
