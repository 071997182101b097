"""Drawing models: ``nn.make_dot(model, x)`` and ``Module.graph(x)`` (see autograd.viz)."""
from __future__ import annotations


def make_dot(model, *inputs, **options):
    """Draw one forward pass of ``model`` on ``inputs``: parameters by their dotted names,
    each module's ops in a box. Options are ``autograd.make_dot``'s; returns a graphviz.Digraph."""
    from autograd.viz import nn_graph  # graphviz is imported only when drawing
    return nn_graph(model, *inputs, **options)
