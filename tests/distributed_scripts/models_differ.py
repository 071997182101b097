"""Run under mpiexec -n 2 with a case name: the ranks' models differ, so wrapping must fail on
every rank, naming the parameter (the test reads the message)."""
import sys

import nn
from nn import distributed as dist


def model(case, rank):
    nn.manual_seed(0)
    if case == "shape":
        return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3 + rank))
    if case == "count":
        layers = [nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)] + [nn.Tanh(), nn.Linear(3, 3)] * rank
        return nn.Sequential(*layers)
    raise ValueError(case)


def main():
    dist.init()
    try:
        nn.distributed.DistributedDataParallel(model(sys.argv[1], dist.rank()))
    except ValueError as error:
        print(f"rank {dist.rank()}: {error}", flush=True)
        return
    print(f"rank {dist.rank()}: wrapped models that differ", flush=True)
    sys.exit(3)


if __name__ == "__main__":
    main()
