"""nn.datasets (as torchvision.datasets): data sets found on disk or downloaded, verified.

- ``mnist.py``: load_mnist and its preprocessing (scale_unit, scale_symmetric,
  train_valid_split, mean_std);
- ``shakespeare.py``: load_shakespeare, tiny Shakespeare as one string;
- ``idx.py``: the IDX file format (gzipped or not); ``download.py``: atomic downloads
  from mirrors, with a progress bar.

Batches are ``nn.data``'s.
"""
from .download import DownloadError
from .mnist import (MNISTNotFoundError, default_root, load_mnist, mean_std, scale_symmetric, scale_unit,
                    train_valid_split, verify_file)
from .shakespeare import ShakespeareNotFoundError, load_shakespeare, shakespeare_dir

__all__ = ["load_mnist", "MNISTNotFoundError", "DownloadError", "default_root", "verify_file", "scale_unit",
           "scale_symmetric", "train_valid_split", "mean_std", "load_shakespeare", "ShakespeareNotFoundError",
           "shakespeare_dir"]
