"""nn.data (PyTorch's torch.utils.data): mini-batches of arrays.

- ``loader.py``: DataLoader (shuffled each epoch, seeded) and TensorDataset.

The data sets themselves (MNIST, found or downloaded and verified) are ``nn.datasets``.
"""
from .loader import DataLoader, TensorDataset

__all__ = ["DataLoader", "TensorDataset"]
