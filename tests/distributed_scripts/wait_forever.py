"""Run under mpiexec -n 2: rank 0 sleeps in Python, rank 1 waits inside MPI for it; Ctrl-C
(SIGINT to mpiexec) must stop both. Each rank prints 'ready' first."""
import time

import numpy as np

from nn import distributed as dist


def main():
    dist.init()
    print("ready", dist.rank(), flush=True)
    if dist.rank() == 0:
        time.sleep(120)
    dist.all_reduce(np.ones(3))


if __name__ == "__main__":
    main()
