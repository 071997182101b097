"""nn.init (PyTorch's formulas, in place, reproducible) and nn.data.DataLoader."""
import math

import numpy as np
import pytest

import nn
from nn.data import DataLoader


def weight(shape=(300, 400), dtype=np.float32):
    return nn.Parameter(np.zeros(shape, dtype=dtype))


STDS = [  # (initialiser, expected std for a (300, 400) weight: fan_in 400, fan_out 300)
    (lambda t, r: nn.init.normal_(t, 0.5, rng=r), 0.5),
    (lambda t, r: nn.init.uniform_(t, -1, 1, rng=r), 1 / math.sqrt(3)),
    (lambda t, r: nn.init.xavier_uniform_(t, rng=r), math.sqrt(2 / 700)),
    (lambda t, r: nn.init.xavier_normal_(t, rng=r), math.sqrt(2 / 700)),
    (lambda t, r: nn.init.kaiming_uniform_(t, rng=r), math.sqrt(2 / 400)),
    (lambda t, r: nn.init.kaiming_normal_(t, rng=r), math.sqrt(2 / 400)),
    (lambda t, r: nn.init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu", rng=r), math.sqrt(2 / 300)),
    (lambda t, r: nn.init.kaiming_uniform_(t, a=math.sqrt(5), rng=r), 1 / math.sqrt(3 * 400)),
]


@pytest.mark.parametrize("fill,std", STDS)
def test_initialisers_fill_in_place_with_the_right_spread_and_dtype(fill, std):
    t = weight()
    array = t.data
    assert fill(t, np.random.default_rng(0)) is t
    assert t.data is array and t.dtype == np.float32
    assert t.data.std() == pytest.approx(std, rel=0.02)
    again = weight()
    fill(again, np.random.default_rng(0))
    np.testing.assert_array_equal(t.data, again.data)


def test_uniform_bounds_constants_and_manual_seed():
    t = weight((50, 60))
    nn.init.kaiming_uniform_(t)
    assert np.abs(t.data).max() <= math.sqrt(6 / 60)
    nn.init.ones_(t)
    assert (t.data == 1).all()
    nn.init.zeros_(t)
    assert not t.data.any()
    assert (nn.init.ones_(t, rng=np.random.default_rng(0)).data == 1).all()   # rng=None like every other
    assert not nn.init.zeros_(t, rng=None).data.any()
    nn.manual_seed(42)
    first = nn.init.normal_(weight((3, 3))).data.copy()
    nn.manual_seed(42)
    np.testing.assert_array_equal(nn.init.normal_(weight((3, 3))).data, first)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        nn.init.xavier_uniform_(weight((3,)))


def test_dataloader_batches_cover_the_data_once_per_epoch():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    loader = DataLoader(X, y, batch_size=4, seed=0)
    assert len(loader) == 3
    batches = list(loader)
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(10)) and list(seen) != list(range(10))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb, X[yb])
    assert list(np.concatenate([b[1] for b in loader])) != list(seen)   # a new order each epoch
    again = np.concatenate([b[1] for b in DataLoader(X, y, batch_size=4, seed=0)])
    np.testing.assert_array_equal(again, seen)


def test_dataloader_without_shuffle_yields_views_and_drop_last():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    loader = DataLoader(X, y, batch_size=4, shuffle=False, drop_last=True)
    assert len(loader) == 2
    batches = list(loader)
    assert len(batches) == 2 and all(np.shares_memory(xb, X) for xb, _ in batches)
    np.testing.assert_array_equal(batches[1][1], [4, 5, 6, 7])
    with pytest.raises(ValueError, match="rows"):
        DataLoader(X, y[:5], batch_size=2)
