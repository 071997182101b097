"""Run under mpiexec -n 2: what DistributedDataParallel does beyond the plain case; prints OK on rank 0.

Rank 0's buffers are copied at wrap time and batch norm statistics then stay per rank; a
parameter only one rank used gets the mean (the other rank's share being zero), one no rank
used keeps grad None; tuple outputs, a second backward through the same graph (the means
accumulate), a parameter also used in the loss outside the module, and one bucket per
parameter all give the mean of the ranks' own gradients; autograd.grad is not averaged.
"""
import numpy as np

import autograd as ag
import nn
from nn import distributed as dist


class Branchy(nn.Module):
    def __init__(self):
        self.a = nn.Linear(3, 4)
        self.b = nn.Linear(3, 4)
        self.never = nn.Linear(3, 4)

    def forward(self, x, use_b):
        out = self.a(x)
        return (out, self.b(x)) if use_b else (out, out * 2)


def loss_of(model, x, use_b, regular):
    first, second = model(x, use_b)
    return first.sum() + (second ** 2).sum() + (regular ** 2).sum() * 0.5


def own_gradients(module, x, use_b):
    """This rank's gradients, computed on the unwrapped module (no communication)."""
    module.zero_grad()
    loss = loss_of(module, x, use_b, module.a.weight)
    loss.backward(retain_graph=True)
    loss.backward()
    return [None if p.grad is None else p.grad.data.copy() for p in module.parameters()]


def check_means(bucket_cap_mb):
    r = dist.rank()
    nn.manual_seed(r)
    model = nn.distributed.DistributedDataParallel(Branchy(), bucket_cap_mb=bucket_cap_mb)
    x = ag.tensor(np.linspace(-1, 1, 6).reshape(2, 3) * (r + 1))
    use_b = r == 0
    mine = own_gradients(model.module, x, use_b)
    model.zero_grad()
    loss = loss_of(model, x, use_b, model.module.a.weight)
    loss.backward(retain_graph=True)  # each pass is averaged, and the means accumulate
    loss.backward()
    for (name, p), g in zip(model.named_parameters(), mine):
        if name.startswith("module.never"):
            assert p.grad is None, name
            continue
        want = dist.all_reduce(np.zeros_like(p.data) if g is None else g, "mean")
        assert np.allclose(p.grad.data, want, rtol=0, atol=1e-12), name
        assert np.array_equal(dist.all_reduce(p.grad.data, "max"), dist.all_reduce(p.grad.data, "min")), name
    weight = model.module.a.weight
    alone, = ag.grad(model(x, use_b)[0].sum(), [weight])  # autograd.grad: this rank's own, not averaged
    assert np.allclose(alone.data, np.tile(x.data.sum(0), (4, 1)), rtol=0, atol=1e-12)


def check_buffers():
    r = dist.rank()
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    net[1].running_mean[...] = r + 5.0
    model = nn.distributed.DistributedDataParallel(net)
    assert (net[1].running_mean == 5.0).all(), "rank 0's buffers were not copied"
    assert list(model.state_dict())[0] == "module.0.weight"
    model(ag.tensor(np.full((4, 3), r, dtype=np.float64) + np.arange(4.0)[:, None]))
    stats = net[1].running_mean
    assert not np.array_equal(dist.all_reduce(stats, "max"), dist.all_reduce(stats, "min")), \
        "batch norm statistics should be per rank"


def main():
    ag.set_default_dtype(np.float64)
    dist.init()
    check_means(bucket_cap_mb=25.0)
    check_means(bucket_cap_mb=1e-6)  # a bucket per parameter
    check_buffers()
    if dist.is_main():
        print("OK")


if __name__ == "__main__":
    main()
