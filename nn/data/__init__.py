"""nn.data (PyTorch's torch.utils.data): mini-batches of arrays, and text for language models.

- ``loader.py``: DataLoader (shuffled each epoch, seeded) and TensorDataset;
- ``text.py``: CharTokenizer (characters to ids and back) and RandomWindows (seeded
  batches of random windows of the encoded text, targets shifted by one).

The data sets themselves (MNIST and tiny Shakespeare, found or downloaded and verified)
are ``nn.datasets``.
"""
from .loader import DataLoader, TensorDataset
from .text import CharTokenizer, RandomWindows, windows_at

__all__ = ["DataLoader", "TensorDataset", "CharTokenizer", "RandomWindows", "windows_at"]
