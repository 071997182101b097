"""atomic_write: a file appears whole at its path, or not at all."""
import os

import pytest

from nn.io.atomic import atomic_write


def test_the_file_appears_only_when_the_block_ends(tmp_path):
    path = tmp_path / "out.txt"
    with atomic_write(path, "w") as file:
        file.write("half")
        assert not path.exists()
    assert path.read_text() == "half"
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert os.listdir(tmp_path) == ["out.txt"]


def test_an_error_leaves_the_old_file_and_nothing_else(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(path, "w") as file:
            file.write("new, but cut short")
            raise KeyboardInterrupt
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_failed_check_keeps_the_file_out(tmp_path):
    def reject(temporary):
        assert temporary.read_bytes() == b"bad"
        raise ValueError("checksum mismatch")
    with pytest.raises(ValueError, match="checksum"):
        with atomic_write(tmp_path / "data.bin", check=reject) as file:
            file.write(b"bad")
    assert os.listdir(tmp_path) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_missing_directory_is_named_instead_of_the_temporary_file(tmp_path):
    from nn.io.atomic import check_writable
    (tmp_path / "file").write_text("")
    for path, words in [(tmp_path / "missing" / "model.npz", f"the directory {tmp_path / 'missing'} does not exist"),
                        (tmp_path / "file" / "model.npz", f"{tmp_path / 'file'} is not a directory"),
                        (tmp_path, "it is a directory")]:
        for attempt in (check_writable, lambda p: atomic_write(p).__enter__()):
            with pytest.raises(OSError) as info:
                attempt(path)
            assert str(info.value) == f"cannot write {path}: {words}"
    check_writable(tmp_path / "fine.npz")
    assert sorted(os.listdir(tmp_path)) == ["file"]
