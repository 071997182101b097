"""nn.callbacks (as Keras'): hooks that ``model.fit`` calls around epochs and batches.

- ``base.py``: Callback (every hook a no-op) and History (what fit returns);
- ``monitors.py``: EarlyStopping, ModelCheckpoint, and resume from a checkpoint;
- ``loggers.py``: CSVLogger, JSONLogger;
- ``threads.py``: BlasThreads, the BLAS thread count chosen by timing batches (fit adds it).
"""
from .base import Callback, History
from .loggers import CSVLogger, JSONLogger
from .monitors import EarlyStopping, ModelCheckpoint, resume
from .threads import BlasThreads

__all__ = ["Callback", "History", "EarlyStopping", "ModelCheckpoint", "resume", "CSVLogger", "JSONLogger", "BlasThreads"]
