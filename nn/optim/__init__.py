"""nn.optim: optimizers (torch.optim's names and arithmetic), schedules and gradient clipping.

- ``optimizer.py``: the base (parameter groups, state by position, state dicts);
- ``sgd.py``: SGD; ``adam.py``: Adam, AdamW; ``clip.py``: clip_grad_norm_, clip_grad_value_;
- ``lr_scheduler.py``: StepLR, CosineAnnealingLR, OneCycleLR.
"""
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from .lr_scheduler import CosineAnnealingLR, LRScheduler, OneCycleLR, StepLR
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm_", "clip_grad_value_", "LRScheduler", "StepLR",
           "CosineAnnealingLR", "OneCycleLR"]
