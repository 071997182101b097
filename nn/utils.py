"""``nn.utils``, as ``torch.nn.utils``: gradient clipping (the functions of ``nn.optim``)."""
from .optim import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
