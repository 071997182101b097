"""ag.checkpoint: the same gradients as without it (backward, ag.grad, create_graph), for
parameters captured by closure too; randomness replayed; retain_graph; what it keeps; errors."""
import re

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from autograd.checkpoint import Checkpoint


def mlp_blocks(count=3, width=6, dropout=0.0, rng=None):
    """Blocks of Linear + tanh + Linear + tanh (+ dropout), float64."""
    nn.manual_seed(0)
    blocks = []
    for _ in range(count):
        layers = [nn.Linear(width, width, dtype=np.float64), nn.Tanh(), nn.Linear(width, width, dtype=np.float64),
                  nn.Tanh()]
        if dropout:
            layers.append(nn.Dropout(dropout, rng=rng))
        blocks.append(nn.Sequential(*layers))
    return nn.Sequential(*blocks)


def run(model, x, checkpointed: bool, **options):
    h = x * 1.5  # an input that is not a leaf, as inside a network
    for block in model:
        h = ag.checkpoint(block, h, **options) if checkpointed else block(h)
    return (h * h).sum()


@pytest.fixture
def data():
    return np.random.default_rng(1).standard_normal((5, 6))


def test_backward_gives_the_same_gradients_to_input_and_captured_parameters(data):
    model = mlp_blocks()
    grads = []
    for checkpointed in (False, True):
        x = Tensor(data, requires_grad=True)
        model.zero_grad()
        loss = run(model, x, checkpointed)
        loss.backward()
        grads.append([x.grad.data] + [p.grad.data.copy() for p in model.parameters()])
    assert len(grads[1]) == 1 + 12
    for plain, checkpointed in zip(*grads):
        np.testing.assert_array_equal(checkpointed, plain)


def test_ag_grad_and_create_graph_reach_captured_parameters(data):
    model = mlp_blocks()
    params = list(model.parameters())
    results = []
    for checkpointed in (False, True):
        x = Tensor(data, requires_grad=True)
        loss = run(model, x, checkpointed)
        first = ag.grad(loss, [x] + params, create_graph=True)
        penalty = sum(((g * g).sum() for g in first), Tensor(np.array(0.0)))
        second = ag.grad(penalty, [x] + params)
        results.append([g.data for g in first + second])
    for plain, checkpointed in zip(*results):
        np.testing.assert_allclose(checkpointed, plain, rtol=1e-12, atol=1e-14)
    assert all(p.grad is None for p in params)  # ag.grad touches no .grad


def test_gradcheck_and_gradgradcheck_through_a_checkpoint(data):
    W = Tensor(np.random.default_rng(2).standard_normal((6, 6)), requires_grad=True)
    block = lambda h: (h @ W).tanh() * h  # noqa: E731 (W captured, h used twice)
    x = Tensor(data, requires_grad=True)
    assert ag.gradcheck(lambda x: ag.checkpoint(block, x).sum(), [x])
    assert ag.gradgradcheck(lambda x: ag.checkpoint(block, x).sum(), [x])


def test_the_forward_keeps_only_the_inputs(data):
    model = mlp_blocks(count=2)
    out = run(model, Tensor(data, requires_grad=True), checkpointed=True)
    nodes, stack = {}, [out.op]
    while stack:
        fn = stack.pop()
        nodes[id(fn)] = type(fn).__name__
        stack.extend(t.op for t in fn.inputs if t.op is not None and id(t.op) not in nodes)
    nodes = list(nodes.values())
    assert sorted(nodes) == ["Checkpoint", "Checkpoint", "Mul", "Mul", "Sum"]  # no Linear, no Tanh
    checkpoint = out.op.inputs[0].op.inputs[0].op
    assert isinstance(checkpoint, Checkpoint)
    assert len(checkpoint.inputs) == 1 + 4  # its argument and the block's 4 parameters
    ops = re.findall(r'label="?(Checkpoint\(\w+\))', ag.make_dot(out).source)
    assert ops == ["Checkpoint(Sequential)"] * 2


def test_a_second_backward_raises_unless_retain_graph(data):
    model = mlp_blocks(count=1)
    x = Tensor(data, requires_grad=True)
    loss = run(model, x, checkpointed=True)
    loss.backward(retain_graph=True)
    once = x.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * once)
    with pytest.raises(RuntimeError, match="backward through this graph a second time.*retain_graph=True"):
        loss.backward()


def test_dropout_masks_are_replayed_from_the_given_generators(data):
    grads = []
    for checkpointed in (False, True):
        rng = np.random.default_rng(5)
        model = mlp_blocks(dropout=0.5, rng=rng)
        x = Tensor(data, requires_grad=True)
        loss = run(model, x, checkpointed, **({"rngs": [rng]} if checkpointed else {}))
        loss.backward()
        grads.append((x.grad.data, rng.random()))  # the generator continues where the plain run's did
    np.testing.assert_array_equal(grads[1][0], grads[0][0])
    assert grads[1][1] == grads[0][1]


def test_nested_checkpoints_and_non_tensor_arguments(data):
    W = Tensor(np.eye(6) * 0.5, requires_grad=True)

    def inner(h, scale):
        return (h @ W).tanh() * scale

    def outer(h):
        return ag.checkpoint(inner, ag.checkpoint(inner, h, 2.0), 3.0)

    grads = []
    for wrap in (lambda h: outer(h), lambda h: ag.checkpoint(outer, h)):
        x = Tensor(data, requires_grad=True)
        grads.append(ag.grad(wrap(x).sum(), [x, W]))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-14)


def test_under_no_grad_it_is_just_the_function(data):
    model = mlp_blocks(count=1)
    with ag.no_grad():
        out = ag.checkpoint(model, Tensor(data))
    assert out.op is None
    np.testing.assert_array_equal(out.data, model(Tensor(data)).data)


def test_errors_name_what_is_wrong(data):
    W = Tensor(np.eye(6), requires_grad=True)
    W2 = W * 2.0  # computed outside, not passed
    x = Tensor(data, requires_grad=True)
    with pytest.raises(ValueError, match=r"computed outside it \(by Mul\).*pass it as an argument"):
        ag.checkpoint(lambda h: h @ W2, x)
    with pytest.raises(TypeError, match="must return one Tensor, got tuple"):
        ag.checkpoint(lambda h: (h, h), x)
    with pytest.raises(TypeError, match="rngs must be numpy.random.Generator"):
        ag.checkpoint(lambda h: h * 2, x, rngs=[np.random.RandomState(0)])
