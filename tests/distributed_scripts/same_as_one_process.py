"""Run under mpiexec -n 2: ranks on their shares of each global batch (even and uneven, with
the shard weights) train the model that one process trains on the whole batch, with SGD
and with Adam; prints OK on rank 0."""
import numpy as np

import autograd as ag
import nn
from nn import distributed as dist
from nn import functional as F


def mlp(seed):
    nn.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3))


def train(model, optimizer, X, y, batches, weighted):
    for batch in batches:
        share = dist.shard(batch) if weighted else dist.Shard(batch, 1.0)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(ag.tensor(X[share.indices])), y[share.indices]) * share.weight
        loss.backward()
        optimizer.step()


def main():
    ag.set_default_dtype(np.float64)
    dist.init()
    assert dist.world_size() == 2, dist.world_size()
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 5)), rng.integers(0, 3, 40)
    batches = [np.arange(0, 8), np.arange(8, 15), np.arange(15, 27), np.arange(27, 40)]  # 8, 7, 12, 13
    for make_optimizer in (lambda ps: nn.optim.SGD(ps, lr=0.5, momentum=0.9),
                           lambda ps: nn.optim.Adam(ps, lr=0.05)):
        alone = mlp(0)
        train(alone, make_optimizer(alone.parameters()), X, y, batches, weighted=False)
        model = nn.distributed.DistributedDataParallel(mlp(dist.rank()))  # rank 1 starts elsewhere
        train(model, make_optimizer(model.parameters()), X, y, batches, weighted=True)
        for (name, p), q in zip(model.module.named_parameters(), alone.parameters()):
            assert np.allclose(p.data, q.data, rtol=0, atol=1e-10), (name, np.abs(p.data - q.data).max())
            same = dist.all_reduce(p.data, "max") == dist.all_reduce(p.data, "min")
            assert same.all(), f"{name} differs between ranks"
    if dist.is_main():
        print("OK")


if __name__ == "__main__":
    main()
