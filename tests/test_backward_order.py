"""The order of the backward pass on random graphs: every node must run after all its consumers.

The engine pops nodes from a heap by creation order, and lets a node that is the only one
left run straight away; graphs with skips, diamonds and reuse check both against finite
differences, and two outputs at once against each alone.
"""
import numpy as np
from hypothesis import given, settings, strategies as st

import autograd as ag
from autograd import Tensor

UNARY = [lambda a: a.tanh(), lambda a: a * 1.5, lambda a: a.sigmoid(), lambda a: -a]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b * 0.5]

steps = st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, 99), st.integers(0, 99)),
                 min_size=1, max_size=12)


def build(x, y, plan):
    """Each step combines one or two earlier nodes (any of them: skips and reuse happen)."""
    nodes = [x, y]
    for binary, op, i, j in plan:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append(BINARY[op % 3](a, b) if binary else UNARY[op](a))
    total = nodes[-1]
    for k, node in enumerate(nodes[2:-1]):  # every node feeds the output, some through many paths
        total = node + total if k % 2 else total + node
    return total


@settings(max_examples=60, deadline=None)
@given(steps)
def test_random_graphs_get_the_finite_difference_gradient(plan):
    x = Tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    y = Tensor(np.array([-0.2, 0.5, 0.9]), requires_grad=True)
    assert ag.gradcheck(lambda a, b: build(a, b, plan).sum(), [x, y])


@settings(max_examples=60, deadline=None)
@given(steps)
def test_two_roots_at_once_match_two_separate_passes(plan):
    x = Tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    y = Tensor(np.array([-0.2, 0.5, 0.9]), requires_grad=True)
    first, second = build(x, y, plan).sum(), (build(x, y, plan[::-1]) * 2.0).sum()
    together = ag.grad([first, second], [x, y], retain_graph=True, allow_unused=True)
    apart = [ag.grad(out, [x, y], retain_graph=True, allow_unused=True) for out in (first, second)]
    for i, g in enumerate(together):
        expected = sum(np.asarray(a[i].data) if a[i] is not None else 0.0 for a in apart)
        np.testing.assert_allclose(g.data if g is not None else 0.0, expected, rtol=1e-12, atol=1e-12)
