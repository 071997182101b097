"""``nn.utils``, as ``torch.nn.utils``: gradient clipping (the one in ``nn.optim``)."""
from .optim import clip_grad_norm_

__all__ = ["clip_grad_norm_"]
