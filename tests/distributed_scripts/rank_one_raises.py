"""Run under mpiexec -n 2: rank 1 raises while rank 0 waits in a collective; the job must end
promptly, non-zero, with rank 1's message shown."""
import numpy as np

from nn import distributed as dist


def main():
    dist.init()
    if dist.rank() == 1:
        raise RuntimeError("rank one broke on purpose")
    dist.all_reduce(np.ones(3))  # rank 0 would wait here forever without the fault handler


if __name__ == "__main__":
    main()
