"""Text for language models: nn.data.CharTokenizer, nn.data.RandomWindows, nn.datasets.load_shakespeare.

Downloads go to test_datasets' HTTP server on 127.0.0.1 serving a small fake corpus whose checksum the
test patches in; never the network. The real corpus is read from $SHAKESPEARE_DIR (tests
needing it are skipped without it).
"""
import hashlib
import os
import re
import socket

import numpy as np
import pytest
from test_datasets import server  # noqa: F401 (fixture: an HTTP server on 127.0.0.1 serving server.routes)

import autograd as ag
import nn
from nn.data import CharTokenizer, RandomWindows, windows_at
from nn.datasets import ShakespeareNotFoundError, load_shakespeare
from nn.datasets import shakespeare

SHAKESPEARE_DIR = os.environ.get("SHAKESPEARE_DIR")
needs_shakespeare = pytest.mark.skipif(not SHAKESPEARE_DIR, reason="SHAKESPEARE_DIR is not set")


# CharTokenizer


def test_the_vocabulary_is_the_sorted_set_of_characters():
    tokenizer = CharTokenizer("hello, world\n")
    assert tokenizer.chars == ["\n", " ", ",", "d", "e", "h", "l", "o", "r", "w"]
    assert tokenizer.vocab_size == 10
    assert repr(tokenizer) == "CharTokenizer(vocab_size=10)"


@pytest.mark.parametrize("text", ["hello, world\n", "ünïcödé ✓ 𝄞 and ASCII", "a"])
def test_encode_then_decode_gives_the_text_back(text):
    tokenizer = CharTokenizer(text)
    ids = tokenizer.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),)
    assert [tokenizer.chars[i] for i in ids] == list(text)
    assert tokenizer.decode(ids) == text


def test_encode_and_decode_of_nothing():
    tokenizer = CharTokenizer("abc")
    assert tokenizer.encode("").shape == (0,) and tokenizer.decode([]) == ""


def test_decode_takes_lists_tensors_and_any_integer_array():
    tokenizer = CharTokenizer("abc")
    assert tokenizer.decode([2, 0, 1]) == "cab"
    assert tokenizer.decode(np.array([[2, 0], [1, 1]], np.uint8)) == "cabb"
    assert tokenizer.decode(ag.Tensor(np.array([1.0, 2.0]))) == "bc"


@pytest.mark.parametrize("text, char, position", [("abx", "'x'", 2), ("é", "'é'", 0), ("a\tb", "'\\t'", 1)])
def test_a_character_outside_the_vocabulary_is_a_value_error_naming_it(text, char, position):
    message = f"character {char} (at position {position}) is not in the vocabulary"
    with pytest.raises(ValueError, match=re.escape(message)):
        CharTokenizer("abc").encode(text)


@pytest.mark.parametrize("ids, words", [([0, 3], "id 3 is out of range"), ([-1], "id -1 is out of range"),
                                        (np.array([0.5]), "whole numbers")])
def test_decode_of_an_id_outside_the_vocabulary_is_a_value_error(ids, words):
    with pytest.raises(ValueError, match=words):
        CharTokenizer("abc").decode(ids)


def test_a_tokenizer_needs_text():
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer("")
    with pytest.raises(TypeError, match="str"):
        CharTokenizer(b"bytes")


# RandomWindows


IDS = np.arange(100, dtype=np.int64)


def test_windows_are_inputs_and_the_same_window_shifted_by_one():
    inputs, targets = next(RandomWindows(IDS, block_size=8, batch_size=5, seed=0))
    assert inputs.shape == targets.shape == (5, 8)
    assert inputs.dtype == targets.dtype == np.int64
    np.testing.assert_array_equal(targets, inputs + 1)   # IDS[i] == i
    np.testing.assert_array_equal(np.diff(inputs, axis=1), 1)  # each row is a contiguous slice


def test_windows_at_gives_the_windows_at_these_starts():
    inputs, targets = windows_at(IDS, [0, 91], 8)
    assert inputs.tolist() == [list(range(8)), list(range(91, 99))]
    assert targets.tolist() == [list(range(1, 9)), list(range(92, 100))]


def test_the_same_seed_gives_the_same_batches_and_another_seed_others():
    def batches(seed, n=4):
        windows = RandomWindows(IDS, 8, 5, seed=seed)
        return [next(windows)[0] for _ in range(n)]
    for a, b in zip(batches(3), batches(3)):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(batches(3), batches(4)))
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(next(RandomWindows(IDS, 8, 5, seed=rng))[0], batches(3, 1)[0])


def test_every_start_is_drawn_including_the_last_possible_one():
    windows = RandomWindows(np.arange(11), block_size=8, batch_size=300, seed=0)
    starts = {int(row[0]) for _ in range(3) for row in next(windows)[0]}
    assert starts == {0, 1, 2}   # the window from 2 ends at 9, its targets at 10, the last id


def test_windows_iterate_without_end():
    windows = RandomWindows(IDS, 4, 2, seed=0)
    assert iter(windows) is windows
    assert len([batch for batch, _ in zip(windows, range(50))]) == 50


@pytest.mark.parametrize("ids, block, batch, words", [
    (np.arange(8), 8, 1, "8 ids are too few for one window of 8"),
    (np.zeros((2, 50), np.int64), 4, 1, "1-D integer array"),
    (np.zeros(50), 4, 1, "1-D integer array"),
    (IDS, 0, 1, "block_size must be a whole number >= 1, got 0"),
    (IDS, 4, 2.5, "batch_size must be a whole number >= 1, got 2.5"),
    (IDS, True, 1, "block_size must be"),
])
def test_impossible_windows_are_value_errors(ids, block, batch, words):
    with pytest.raises(ValueError, match=words):
        RandomWindows(ids, block, batch)


# load_shakespeare: where it looks


FAKE = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 3


@pytest.fixture
def no_mirrors(monkeypatch):
    """Make sure no test can reach the real mirror."""
    monkeypatch.setattr(shakespeare, "MIRRORS", [])


def test_reads_input_txt_from_the_directory_given(tmp_path, no_mirrors):
    (tmp_path / "input.txt").write_text(FAKE)
    assert load_shakespeare(tmp_path) == FAKE
    assert load_shakespeare(str(tmp_path)) == FAKE


def test_the_directory_defaults_to_shakespeare_dir_then_the_cache(tmp_path, monkeypatch, no_mirrors):
    (tmp_path / "input.txt").write_text(FAKE)
    monkeypatch.setenv("SHAKESPEARE_DIR", str(tmp_path))
    assert nn.datasets.shakespeare_dir() == tmp_path and load_shakespeare() == FAKE
    monkeypatch.delenv("SHAKESPEARE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert nn.datasets.shakespeare_dir() == tmp_path / "xdg" / "dagrad" / "shakespeare"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG spec: relative paths are ignored
    monkeypatch.setenv("HOME", str(tmp_path))
    assert nn.datasets.shakespeare_dir() == tmp_path / ".cache" / "dagrad" / "shakespeare"


def test_the_text_is_read_as_it_is_with_its_line_ends(tmp_path, no_mirrors):
    (tmp_path / "input.txt").write_bytes(b"one\r\ntwo\rthree\n")
    assert load_shakespeare(tmp_path) == "one\r\ntwo\rthree\n"


def test_the_directory_given_beats_shakespeare_dir(tmp_path, monkeypatch, no_mirrors):
    (tmp_path / "input.txt").write_text(FAKE)
    monkeypatch.setenv("SHAKESPEARE_DIR", str(tmp_path / "elsewhere"))
    assert load_shakespeare(tmp_path) == FAKE


def test_a_file_that_is_not_utf8_is_a_value_error_naming_it(tmp_path, no_mirrors):
    (tmp_path / "input.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(ValueError, match=f"{tmp_path / 'input.txt'}: not UTF-8 text"):
        load_shakespeare(tmp_path)


@pytest.mark.parametrize("download", [True, False])
def test_offline_the_error_says_which_file_to_put_where(tmp_path, no_mirrors, download):
    with pytest.raises(FileNotFoundError) as info:
        load_shakespeare(tmp_path / "data", download=download)
    assert isinstance(info.value, ShakespeareNotFoundError)
    first, *_, hint = str(info.value).splitlines()
    assert first.startswith(f"input.txt not found in {tmp_path / 'data'}, and ")
    assert first.endswith("no mirrors" if download else "download=False.")
    assert hint.startswith("To work offline, put tiny Shakespeare's input.txt (1,115,394 bytes, SHA-256 86c4e6aa")
    assert str(tmp_path / "data") in hint and "SHAKESPEARE_DIR" in hint
    assert not (tmp_path / "data").exists()  # a failed download leaves no directory behind


# load_shakespeare: downloads, from a local HTTP server


@pytest.fixture
def mirrors(server, monkeypatch):
    """Mirror URLs by kind (``good`` serves the fake corpus, the others fail in their way), with the
    fake corpus's size and checksum patched in as the expected ones."""
    data = FAKE.encode()
    monkeypatch.setattr(shakespeare, "SIZE", len(data))
    monkeypatch.setattr(shakespeare, "SHA256", hashlib.sha256(data).hexdigest())
    server.requests = []
    server.routes = {"/good/input.txt": (data, len(data)), "/cut/input.txt": (data[:20], len(data)),
                     "/corrupt/input.txt": (data[:-1] + b"?", len(data)),
                     "/long/input.txt": (data + b"\n", len(data) + 1)}
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{server.server_address[1]}"
    kinds = {kind: f"{base}/{kind}/" for kind in ("good", "cut", "corrupt", "long", "missing")}
    return {**kinds, "refused": f"http://127.0.0.1:{closed_port}/"}


FAILURES = {"cut": "connection closed after 20 of", "corrupt": "sha256 checksum", "long": "bytes, expected",
            "missing": "HTTP Error 404", "refused": "refused"}


def test_a_missing_file_is_downloaded_checked_and_kept(tmp_path, mirrors, server):
    directory = tmp_path / "new" / "dir"
    assert load_shakespeare(directory, mirrors=[mirrors["good"]], progress=False) == FAKE
    assert os.listdir(directory) == ["input.txt"]
    assert (directory / "input.txt").stat().st_mode & 0o777 == 0o644
    assert load_shakespeare(directory, mirrors=[], progress=False) == FAKE  # the second time, from disk
    assert server.requests == ["/good/input.txt"]


def test_the_download_goes_to_the_cache_by_default(tmp_path, mirrors, monkeypatch):
    monkeypatch.delenv("SHAKESPEARE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(shakespeare, "MIRRORS", [mirrors["good"]])
    assert load_shakespeare(progress=False) == FAKE
    assert (tmp_path / "dagrad" / "shakespeare" / "input.txt").read_text() == FAKE


@pytest.mark.parametrize("kind", FAILURES)
def test_a_failing_mirror_falls_through_to_the_next(tmp_path, mirrors, kind):
    assert load_shakespeare(tmp_path, mirrors=[mirrors[kind], mirrors["good"]], progress=False) == FAKE
    assert os.listdir(tmp_path) == ["input.txt"]


@pytest.mark.parametrize("kind", FAILURES)
def test_when_every_mirror_fails_nothing_is_left_and_the_error_says_why(tmp_path, mirrors, kind):
    with pytest.raises(ShakespeareNotFoundError) as info:
        load_shakespeare(tmp_path, mirrors=[mirrors[kind]], progress=False)
    assert os.listdir(tmp_path) == []
    message = str(info.value)
    assert FAILURES[kind] in message and f"{mirrors[kind]}input.txt" in message
    assert message.splitlines()[-1].startswith("To work offline, put tiny Shakespeare's input.txt")


def test_downloads_are_checked_against_the_real_checksum(tmp_path, mirrors, monkeypatch):
    monkeypatch.setattr(shakespeare, "SIZE", 1115394)
    monkeypatch.setattr(shakespeare, "SHA256", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed")
    with pytest.raises(ShakespeareNotFoundError, match="bytes, expected 1115394"):
        load_shakespeare(tmp_path, mirrors=[mirrors["good"]], progress=False)
    assert os.listdir(tmp_path) == []


# The real corpus


@needs_shakespeare
def test_the_real_tiny_shakespeare():
    text = load_shakespeare(download=False)
    assert len(text) == 1115394
    shakespeare.verify(os.path.join(SHAKESPEARE_DIR, "input.txt"))
    tokenizer = CharTokenizer(text)
    assert tokenizer.vocab_size == 65
    assert "".join(tokenizer.chars) == "\n !$&',-.3:;?" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz"
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids[:14]) == "First Citizen:"
    assert int(0.9 * len(ids)) == 1003854   # the usual split: 1,003,854 train, 111,540 validate
