"""nn.load on a file that is not a checkpoint: one line naming the file and what is wrong, never pickle advice."""
import zipfile

import numpy as np
import pytest

import nn


def _make(kind: str, tmp_path):
    """A path of the given kind of bad checkpoint, and the words its message must have."""
    path = tmp_path / "bad.npz"
    if kind == "missing":
        return tmp_path / "nowhere.npz", FileNotFoundError, "no checkpoint file"
    if kind == "directory":
        path.mkdir()
        return path, IsADirectoryError, "is a directory"
    if kind == "empty":
        path.write_bytes(b"")
        return path, nn.CheckpointError, "is empty"
    if kind == "garbage":
        path.write_text("garbage\n")  # what np.load would offer to unpickle
        return path, nn.CheckpointError, "is not a checkpoint"
    if kind == "npy":
        np.save(tmp_path / "bad.npy", np.zeros(3))
        (tmp_path / "bad.npy").rename(path)
        return path, nn.CheckpointError, "single .npy array"
    if kind == "truncated":
        nn.save(nn.MLP([3, 4, 2]), path)
        path.write_bytes(path.read_bytes()[:200])
        return path, nn.CheckpointError, "truncated or corrupt"
    if kind == "objects":
        np.savez(path, weight=np.array([{}], dtype=object))
        return path, nn.CheckpointError, "Python objects in 'weight'"
    if kind == "other zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "hello")
        return path, nn.CheckpointError, "'notes.txt' is not a NumPy array"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "garbage", "npy", "truncated", "objects",
                                  "other zip"])
def test_a_bad_checkpoint_is_one_line_naming_the_file(tmp_path, kind):
    path, error, words = _make(kind, tmp_path)
    model = nn.MLP([3, 4, 2])
    before = model.state_dict()
    with pytest.raises(error) as info:
        nn.load(model, path)
    message = str(info.value)
    assert message.startswith(f"nn.load: {str(path)!r}" if kind != "missing" else "nn.load: ")
    assert str(path) in message and words in message
    assert "\n" not in message and "pickle=" not in message and "pickle.load" not in message
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
