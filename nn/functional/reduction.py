"""The reductions every loss takes: "mean" (default), "sum" or "none", checked in one place."""
from __future__ import annotations

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name: str, reduction: str) -> None:
    """Raise ValueError naming the loss for a reduction other than "mean", "sum", "none"."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
