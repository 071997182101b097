"""examples/mnist_helpers/augment.py: random shifts of the training batches, and how mnist.py trains behind them."""
from dataclasses import replace

import numpy as np
import pytest

from test_mnist_example import example  # noqa: F401 (fixture; puts examples/ on sys.path)


def _offset_of(original, moved, pixels, fill):
    """The (dy, dx) that turns ``original`` into ``moved`` (one channel, background ``fill``), or None."""
    padded = np.pad(original, pixels, constant_values=fill)
    height, width = original.shape
    for dy in range(-pixels, pixels + 1):
        for dx in range(-pixels, pixels + 1):
            window = padded[pixels - dy:pixels - dy + height, pixels - dx:pixels - dx + width]
            if np.array_equal(window, moved):
                return dy, dx
    return None


@pytest.mark.parametrize("pixels", [1, 2])
def test_shift_moves_each_image_by_its_own_offset_within_range(example, pixels):
    from mnist_helpers.augment import shift
    images = np.random.default_rng(0).standard_normal((32, 1, 9, 7)).astype(np.float32)
    moved = shift(images, pixels, np.random.default_rng(1), fill=-5.0)
    assert moved.shape == images.shape and moved.dtype == images.dtype
    offsets = [_offset_of(a[0], b[0], pixels, -5.0) for a, b in zip(images, moved)]
    assert None not in offsets   # image n is still image n moved, so its label still fits
    assert len(set(offsets)) > 1 and all(max(abs(dy), abs(dx)) <= pixels for dy, dx in offsets)


def test_shift_fills_with_the_batch_minimum_and_keeps_every_channel_together(example):
    from mnist_helpers.augment import shift
    images = np.random.default_rng(0).random((8, 3, 6, 6))
    moved = shift(images, 2, np.random.default_rng(2))
    for a, b in zip(images, moved):
        offset = _offset_of(a[0], b[0], 2, images.min())
        assert offset is not None and all(_offset_of(a[c], b[c], 2, images.min()) == offset for c in range(3))


def test_shift_repeats_with_a_seed_and_leaves_its_input_alone(example):
    from mnist_helpers.augment import shift
    images = np.random.default_rng(0).random((16, 1, 8, 8)).astype(np.float32)
    kept = images.copy()
    first, again = (shift(images, 1, np.random.default_rng(7)) for _ in range(2))
    assert np.array_equal(first, again) and not np.array_equal(first, shift(images, 1, np.random.default_rng(8)))
    assert np.array_equal(images, kept)
    assert np.array_equal(shift(images, 0, np.random.default_rng(7)), images)
    with pytest.raises(ValueError, match="shift.*N, C, H, W"):
        shift(images[0], 1, np.random.default_rng(7))


def test_random_shift_layer_shifts_in_training_only_from_nn_generator(example):
    import nn
    from autograd import Tensor
    from mnist_helpers.augment import RandomShift
    x = Tensor(np.random.default_rng(0).random((16, 1, 8, 8)).astype(np.float32))
    layer = RandomShift(1)
    nn.manual_seed(3)
    first = layer(x).data
    nn.manual_seed(3)
    assert np.array_equal(layer(x).data, first) and not np.array_equal(first, x.data)
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="RandomShift"):
        RandomShift(-1)


def test_a_preset_with_a_shift_trains_behind_it_and_keeps_the_network_alone(example):
    import nn
    from mnist_helpers.augment import RandomShift
    from mnist_helpers.presets import PRESETS, parse_args
    from mnist_helpers.report import Report
    preset = replace(PRESETS["cnn-best"], epochs=1)
    assert preset.shift > 0
    rng = np.random.default_rng(0)
    images, labels = rng.standard_normal((128, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 128)
    data = ((images, labels), (images[:64], labels[:64]), (images[:64], labels[:64]))
    report = Report(preset, parse_args(["--quiet", "--preset", "cnn-best"]))
    model = example.build_model(preset, report.rng)
    keys = list(model.state_dict())
    example.train(preset, model, data, parse_args(["--quiet", "--preset", "cnn-best"]), report)
    assert len(report.history) == 1 and list(model.state_dict()) == keys
    assert not any(isinstance(m, RandomShift) for m in model.modules())
