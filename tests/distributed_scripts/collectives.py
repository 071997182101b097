"""Run under mpiexec -n 2: all_reduce with each op, and broadcast from either root; prints OK on rank 0."""
import numpy as np

from nn import distributed as dist


def main():
    dist.init()
    r = dist.rank()
    assert (dist.world_size(), dist.is_main()) == (2, r == 0)
    mine = np.array([[1.0, -2.0], [3.0, 4.0]]) * (r + 1)      # rank 0: x, rank 1: 2x
    x = mine / (r + 1)
    expected = {"sum": 3 * x, "mean": 1.5 * x, "max": np.maximum(x, 2 * x), "min": np.minimum(x, 2 * x)}
    for op, want in expected.items():
        got = dist.all_reduce(mine, op)
        assert got.shape == want.shape and np.array_equal(got, want), (op, got)
    assert np.array_equal(mine, x * (r + 1)), "all_reduce wrote into its argument"
    assert dist.all_reduce(np.int64(r + 1)) == 3
    layout = np.arange(6.0).reshape(2, 3)
    assert np.array_equal(dist.all_reduce(layout if r == 0 else np.asfortranarray(layout)), 2 * layout)
    assert dist.all_reduce(np.array([r], dtype=np.int32), "mean").tolist() == [0.5]
    try:
        dist.all_reduce(mine, "prod")
    except ValueError as error:
        assert "prod" in str(error)
    else:
        raise AssertionError("all_reduce accepted op='prod'")
    from_one = dist.broadcast(np.arange(6.0).reshape(2, 3) if r == 1 else None, root=1)
    assert np.array_equal(from_one, np.arange(6.0).reshape(2, 3))
    from_zero = dist.broadcast(np.full(4, r, dtype=np.int16))
    assert from_zero.dtype == np.int16 and not from_zero.any()
    if dist.is_main():
        print("OK")


if __name__ == "__main__":
    main()
