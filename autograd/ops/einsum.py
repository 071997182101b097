"""Einstein summation over any number of operands (``ag.einsum``)."""
from __future__ import annotations

import numpy as np

from ..function import Function


def parse(equation: str, count: int) -> tuple:
    """(input subscripts, output subscripts) of an explicit or implicit einsum equation."""
    equation = equation.replace(" ", "")
    if "." in equation:
        raise ValueError(f"Einsum: ellipsis ('...') is not supported: {equation!r}")
    inputs, arrow, output = equation.partition("->")
    subscripts = inputs.split(",")
    if len(subscripts) != count:
        raise ValueError(f"Einsum: {equation!r} names {len(subscripts)} operands but {count} were given")
    if not arrow:  # implicit form: the letters seen once, in alphabetical order
        letters = "".join(subscripts)
        output = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for s in subscripts:
        if len(set(s)) != len(s):
            raise ValueError(f"Einsum: a repeated index within one operand ({s!r}, a diagonal) is not supported")
    return subscripts, output


def einsum(equation: str, *operands):
    """Einstein summation, as ``torch.einsum``: ``ag.einsum("bij,bjk->bik", a, b)``.

    One Einsum node when any operand is a Tensor (the others become constants), plain
    ``np.einsum`` on ndarrays; differentiable twice. No ellipsis and no repeated index
    within one operand (a diagonal). Operands may also be given as one list.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    from ..tensor import Tensor
    if not any(isinstance(x, Tensor) for x in operands):
        return np.einsum(equation, *operands, optimize=True)
    like = next(x for x in operands if isinstance(x, Tensor))
    return Einsum.apply(*[like._operand(x) for x in operands], equation=equation)


class Einsum(Function):
    """np.einsum(equation, *operands).

    d/d(operand k) = einsum(grad and the other operands -> operand k's subscripts); an index
    only operand k carries (summed away in the forward) is broadcast back by a ones
    operand along it.
    """

    def __init__(self, equation: str):
        self.equation = equation

    def forward(self, *arrays):
        subscripts, output = parse(self.equation, len(arrays))
        for s, a in zip(subscripts, arrays):
            if len(s) != a.ndim:
                raise ValueError(f"Einsum: subscripts {s!r} do not fit an operand of shape {a.shape} "
                                 f"in {self.equation!r}")
        self.save(*arrays)
        try:
            return np.einsum(f"{','.join(subscripts)}->{output}", *arrays, optimize=True)
        except ValueError as error:
            raise ValueError(f"Einsum: {self.equation!r} with shapes {[a.shape for a in arrays]}: {error}") from None

    def backward(self, grad):
        arrays = self.saved
        subscripts, output = parse(self.equation, len(arrays))
        sizes = {c: n for s, a in zip(subscripts, arrays) for c, n in zip(s, np.shape(a))}
        grads = []
        for k, (s, need) in enumerate(zip(subscripts, self.needs_input_grad)):
            if not need:
                grads.append(None)
                continue
            terms, operands = [output], [grad]
            for j, (other, a) in enumerate(zip(subscripts, arrays)):
                if j != k:
                    terms.append(other)
                    operands.append(a)
            lonely = "".join(c for c in s if c not in "".join(terms))
            if lonely:
                terms.append(lonely)
                operands.append(np.ones([sizes[c] for c in lonely], dtype=np.asarray(arrays[k]).dtype))
            grads.append(einsum(f"{','.join(terms)}->{s}", *operands))
        return tuple(grads)
