"""Tests for nn.datasets: IDX checks, file lookup, downloads, preprocessing.

Every file here is a tiny IDX file the test writes itself; downloads go to an
HTTP server on 127.0.0.1. Only the last test reads the real MNIST, from
$MNIST_DIR.
"""

import gzip
import hashlib
import http.server
import os
import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis.extra import numpy as hnp

from nn.datasets import mnist as datasets
from nn.datasets import MNISTNotFoundError, load_mnist

TRAIN_IMAGES, TRAIN_LABELS = datasets.FILES["train"]
RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, (3, 28, 28), dtype=np.uint8)
LABELS = np.array([7, 0, 9], np.uint8)


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """Return an IDX file of unsigned bytes holding ``array``."""
    magic = 0x0800 | array.ndim if magic is None else magic
    header = [magic, *array.shape]
    return b"".join(n.to_bytes(4, "big") for n in header) + array.astype(np.uint8).tobytes()


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``, gzipped if the name ends in .gz."""
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def write_train(directory: Path, images=IMAGES, labels=LABELS, suffix=".gz") -> None:
    """Write a tiny training split (images and labels) into ``directory``."""
    write(directory / (TRAIN_IMAGES + suffix), idx_bytes(images))
    write(directory / (TRAIN_LABELS + suffix), idx_bytes(labels))


@pytest.fixture(autouse=True)
def no_default_mirrors(monkeypatch):
    """Make sure no test can reach the real mirrors."""
    monkeypatch.setattr(datasets, "MIRRORS", [])


# Reading files


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_reads_gzipped_and_raw_files(tmp_path, suffix):
    write_train(tmp_path, suffix=suffix)
    images, labels = load_mnist("train", tmp_path, download=False)
    assert images.dtype == labels.dtype == np.uint8
    assert images.shape == (3, 784) and labels.shape == (3,)
    np.testing.assert_array_equal(images, IMAGES.reshape(3, 784))
    np.testing.assert_array_equal(labels, LABELS)
    assert images.flags.writeable


def test_reads_the_test_split(tmp_path):
    names = datasets.FILES["test"]
    write(tmp_path / names[0], idx_bytes(IMAGES[:2]))
    write(tmp_path / (names[1] + ".gz"), idx_bytes(LABELS[:2]))
    images, labels = load_mnist("test", tmp_path, download=False)
    assert images.shape == (2, 784) and list(labels) == [7, 0]


def test_prefers_the_raw_file_when_both_exist(tmp_path):
    write_train(tmp_path, suffix=".gz")
    write_train(tmp_path, images=255 - IMAGES, suffix="")
    images, _ = load_mnist("train", tmp_path, download=False)
    np.testing.assert_array_equal(images, 255 - IMAGES.reshape(3, 784))


def test_an_empty_split_has_the_right_shapes(tmp_path):
    write_train(tmp_path, images=IMAGES[:0], labels=LABELS[:0])
    images, labels = load_mnist("train", tmp_path, download=False)
    assert images.shape == (0, 784) and labels.shape == (0,)


GOOD_IMAGES, GOOD_LABELS = idx_bytes(IMAGES), idx_bytes(LABELS)


@pytest.mark.parametrize(
    "name, content, message",
    [
        (TRAIN_IMAGES, idx_bytes(IMAGES, magic=0x0801), "magic number 0x00000801, expected 0x00000803"),
        (TRAIN_LABELS, idx_bytes(LABELS, magic=0x0803), "magic number 0x00000803, expected 0x00000801"),
        (TRAIN_LABELS, idx_bytes(LABELS, magic=0x0901), "magic number 0x00000901"),
        (TRAIN_IMAGES, idx_bytes(np.zeros((3, 29, 28))), "items of shape 29 x 28, expected 28 x 28"),
        (TRAIN_IMAGES, idx_bytes(np.zeros((3, 784))), "magic number 0x00000802"),
        (TRAIN_IMAGES, GOOD_IMAGES[:-1], "payload of 2351 bytes, but the header promises 3 x 28 x 28 = 2352"),
        (TRAIN_IMAGES, GOOD_IMAGES + b"\0", "payload of 2353 bytes"),
        (TRAIN_LABELS, GOOD_LABELS[:-1], "payload of 2 bytes, but the header promises 3 = 3"),
        (TRAIN_LABELS, GOOD_LABELS[:6], "too short for the 8-byte header"),
        (TRAIN_IMAGES, b"", "too short for the 16-byte header"),
        (TRAIN_LABELS, idx_bytes(LABELS[:2]), "holds 3 images but"),
    ],
)
def test_a_malformed_file_raises_a_value_error_naming_it(tmp_path, name, content, message):
    write_train(tmp_path)
    path = write(tmp_path / (name + ".gz"), content)
    with pytest.raises(ValueError, match=message) as info:
        load_mnist("train", tmp_path, download=False)
    assert str(path) in str(info.value)


GOOD_GZIP = gzip.compress(GOOD_IMAGES)
BAD_CRC = GOOD_GZIP[:-8] + bytes([GOOD_GZIP[-8] ^ 1]) + GOOD_GZIP[-7:]


@pytest.mark.parametrize(
    "gz_content, message",
    [
        (GOOD_GZIP[:-12], "truncated gzip file"),
        (GOOD_GZIP[:30], "truncated gzip file"),
        (b"\x1f\x8bnot gzip", "corrupt gzip file"),
        (BAD_CRC, r"corrupt gzip file \(CRC check failed\)"),
        (GOOD_GZIP[:-1] + bytes([GOOD_GZIP[-1] ^ 1]), "corrupt gzip file"),
        (b"random bytes, not gzip", r"not a gzip file \(it starts with bytes 72 61, not 1f 8b\), nor"),
        (b"", r"not a gzip file \(it is empty\)"),
    ],
    ids=["truncated", "cut-early", "bad-header", "bad-crc", "bad-length", "random", "empty"],
)
def test_a_broken_gzip_raises_a_value_error_naming_it(tmp_path, gz_content, message):
    write_train(tmp_path)
    path = tmp_path / (TRAIN_IMAGES + ".gz")
    path.write_bytes(gz_content)
    with pytest.raises(ValueError, match=message) as info:
        load_mnist("train", tmp_path, download=False)
    assert str(path) in str(info.value)
    assert "magic number" not in str(info.value)


def test_a_raw_file_named_gz_is_read_as_raw(tmp_path):
    write_train(tmp_path, suffix="")
    os.replace(tmp_path / TRAIN_IMAGES, tmp_path / (TRAIN_IMAGES + ".gz"))
    assert load_mnist("train", tmp_path, download=False)[0].shape == (3, 784)


def test_a_missing_file_without_download_names_directory_and_file(tmp_path):
    write(tmp_path / (TRAIN_IMAGES + ".gz"), GOOD_IMAGES)
    with pytest.raises(FileNotFoundError) as info:
        load_mnist("train", tmp_path, download=False)
    assert isinstance(info.value, MNISTNotFoundError)
    assert str(tmp_path) in str(info.value) and TRAIN_LABELS in str(info.value)
    assert "MNIST_DIR" in str(info.value) and "--data" in str(info.value)


def test_an_unknown_split_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="'valid'"):
        load_mnist("valid", tmp_path)


# Where the files are looked for


def test_root_defaults_to_mnist_dir(tmp_path, monkeypatch):
    write_train(tmp_path)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert datasets.default_root() == tmp_path
    assert load_mnist(download=False)[0].shape == (3, 784)


def test_the_root_argument_beats_mnist_dir(tmp_path, monkeypatch):
    write_train(tmp_path)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "elsewhere"))
    assert load_mnist(root=tmp_path, download=False)[0].shape == (3, 784)


def test_root_falls_back_to_the_user_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert datasets.default_root() == tmp_path / "xdg" / "dagrad" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.default_root() == tmp_path / ".cache" / "dagrad" / "mnist"


# Downloads, from a local HTTP server


class Handler(http.server.BaseHTTPRequestHandler):
    """Serve ``server.routes``: path -> (body, declared Content-Length)."""

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path not in self.server.routes:
            self.send_error(404)
            return
        body, length = self.server.routes[self.path]
        self.send_response(200)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)  # then hang up, even if body is short

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """An HTTP server on a free port of 127.0.0.1, serving tiny MNIST files."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def mirrors(server):
    """Mirror URLs by kind; ``good`` serves the files, the others fail in their way."""
    server.requests = []
    server.routes = {}
    for name, content in [(TRAIN_IMAGES, GOOD_IMAGES), (TRAIN_LABELS, GOOD_LABELS)]:
        gz = gzip.compress(content)
        server.routes[f"/good/{name}.gz"] = (gz, len(gz))
        server.routes[f"/cut/{name}.gz"] = (gz[: len(gz) // 2], len(gz))
        corrupt = gzip.compress(content[:-1] + b"\1")
        server.routes[f"/corrupt/{name}.gz"] = (corrupt, len(corrupt))
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{server.server_address[1]}"
    return {
        "good": f"{base}/good/",
        "corrupt": f"{base}/corrupt/",
        "missing": f"{base}/missing/",
        "cut": f"{base}/cut",  # no trailing slash: the loader adds it
        "refused": f"http://127.0.0.1:{closed_port}/",
    }


CHECKSUMS = {name: hashlib.sha256(content).hexdigest()
             for name, content in [(TRAIN_IMAGES, GOOD_IMAGES), (TRAIN_LABELS, GOOD_LABELS)]}

FAILURES = {
    "corrupt": "sha256 checksum",
    "missing": "HTTP Error 404",
    "cut": "connection closed after",
    "refused": "refused",
}


def download_train(root, mirror_list, checksums=CHECKSUMS, progress=False):
    """Load the training split from ``root``, downloading from ``mirror_list``."""
    return load_mnist("train", root, mirrors=mirror_list, checksums=checksums, progress=progress)


def test_download_puts_checked_files_in_place(tmp_path, mirrors):
    root = tmp_path / "new" / "dir"
    images, labels = download_train(root, [mirrors["good"]])
    np.testing.assert_array_equal(images, IMAGES.reshape(3, 784))
    assert sorted(os.listdir(root)) == [TRAIN_IMAGES + ".gz", TRAIN_LABELS + ".gz"]
    assert (root / (TRAIN_IMAGES + ".gz")).stat().st_mode & 0o777 == 0o644
    np.testing.assert_array_equal(load_mnist("train", root, download=False)[1], LABELS)


@pytest.mark.parametrize("kind", FAILURES)
def test_a_failing_mirror_falls_through_to_the_next(tmp_path, mirrors, server, kind):
    images, _ = download_train(tmp_path, [mirrors[kind], mirrors["good"]])
    np.testing.assert_array_equal(images, IMAGES.reshape(3, 784))
    assert sorted(os.listdir(tmp_path)) == [TRAIN_IMAGES + ".gz", TRAIN_LABELS + ".gz"]
    assert f"/good/{TRAIN_IMAGES}.gz" in server.requests


@pytest.mark.parametrize("kind", FAILURES)
def test_when_every_mirror_fails_nothing_is_left_and_the_error_says_why(tmp_path, mirrors, kind):
    with pytest.raises(MNISTNotFoundError) as info:
        download_train(tmp_path, [mirrors[kind], mirrors["missing"]])
    assert os.listdir(tmp_path) == []
    message = str(info.value)
    assert str(tmp_path) in message and FAILURES[kind] in message
    assert mirrors[kind].rstrip("/") + f"/{TRAIN_IMAGES}.gz" in message
    assert mirrors["missing"] + f"{TRAIN_IMAGES}.gz" in message
    assert "MNIST_DIR" in message and "--data" in message


def test_downloads_are_checked_against_the_real_checksums_by_default(tmp_path, mirrors):
    with pytest.raises(MNISTNotFoundError, match="sha256 checksum"):
        download_train(tmp_path, [mirrors["good"]], checksums=None)
    assert os.listdir(tmp_path) == []


def test_download_without_mirrors_says_so(tmp_path):
    with pytest.raises(MNISTNotFoundError, match="no mirrors"):
        load_mnist("train", tmp_path)


@pytest.mark.parametrize("download", [True, False])
def test_the_message_is_whole_lines_ending_with_how_to_work_offline(tmp_path, download):
    with pytest.raises(MNISTNotFoundError) as info:
        load_mnist("train", tmp_path, download=download)
    first, *_, hint = str(info.value).splitlines()
    assert first.startswith(f"{TRAIN_IMAGES} (or {TRAIN_IMAGES}.gz) not found in {tmp_path}, and ")
    assert first.endswith("no mirrors" if download else "download=False.")
    assert hint.startswith("To work offline, put the four MNIST files")
    for name in [*datasets.FILES["train"], *datasets.FILES["test"]]:
        assert f"{name}.gz" in hint


def test_progress_uses_tqdm_when_present(tmp_path, mirrors):
    pytest.importorskip("tqdm")
    assert download_train(tmp_path, [mirrors["good"]], progress=True)[0].shape == (3, 784)


def test_progress_falls_back_to_a_notice_without_tqdm(tmp_path, mirrors, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
    download_train(tmp_path, [mirrors["good"]], progress=True)
    assert f"downloading {mirrors['good']}{TRAIN_IMAGES}.gz" in capsys.readouterr().err


# Checksums of local files


def test_verify_file_takes_md5_or_sha256(tmp_path):
    path = write(tmp_path / "labels.gz", GOOD_LABELS)
    datasets.verify_file(path, hashlib.md5(GOOD_LABELS).hexdigest())
    datasets.verify_file(path, hashlib.sha256(GOOD_LABELS).hexdigest().upper())
    with pytest.raises(ValueError, match="md5 checksum"):
        datasets.verify_file(path, hashlib.md5(b"other").hexdigest())
    with pytest.raises(ValueError, match="neither an MD5 nor a SHA-256"):
        datasets.verify_file(path, "abc")


# Preprocessing


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scale_unit_is_x_over_255(dtype):
    scaled = datasets.scale_unit(IMAGES, dtype)
    assert scaled.dtype == dtype and scaled.shape == IMAGES.shape
    np.testing.assert_array_equal(scaled, IMAGES / dtype(255))
    assert datasets.scale_unit(np.array([0, 255], np.uint8)).tolist() == [0.0, 1.0]


def test_scale_symmetric_matches_the_textbook():
    textbook = ((IMAGES / 255.) - .5) * 2
    np.testing.assert_array_equal(datasets.scale_symmetric(IMAGES, np.float64), textbook)
    scaled = datasets.scale_symmetric(IMAGES)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, textbook, atol=1e-6)
    assert datasets.scale_symmetric(np.array([0, 255], np.uint8)).tolist() == [-1.0, 1.0]


def test_train_valid_split_keeps_the_last_examples_for_validation():
    images, labels = np.arange(20).reshape(10, 2), np.arange(10)
    (train_x, train_y), (valid_x, valid_y) = datasets.train_valid_split(images, labels, n_valid=3)
    assert train_y.tolist() == list(range(7)) and valid_y.tolist() == [7, 8, 9]
    assert train_x.shape == (7, 2) and valid_x.shape == (3, 2)
    assert np.shares_memory(train_x, images)
    with pytest.raises(ValueError, match="n_valid"):
        datasets.train_valid_split(images, labels, n_valid=11)
    with pytest.raises(ValueError, match="10 images but 9 labels"):
        datasets.train_valid_split(images, labels[:9])


@settings(max_examples=30, deadline=None, derandomize=True)
@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=3, max_side=20)))
def test_mean_std_matches_numpy(images):
    mean, std = datasets.mean_std(images, chunk_size=7)
    pixels = images / 255.
    assert mean == pytest.approx(pixels.mean(), abs=1e-12)
    assert std == pytest.approx(pixels.std(), abs=1e-12)


def test_mean_std_needs_uint8():
    with pytest.raises(TypeError, match="uint8"):
        datasets.mean_std(np.zeros(3))


# The real data


@pytest.mark.skipif(not os.environ.get("MNIST_DIR"), reason="MNIST_DIR is not set")
def test_the_real_mnist():
    md5 = {  # of the decompressed files, from the data's README
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }
    root = Path(os.environ["MNIST_DIR"])
    for split, n in [("train", 60000), ("test", 10000)]:
        images, labels = load_mnist(split, download=False)
        assert images.shape == (n, 784) and labels.shape == (n,)
        assert images.dtype == labels.dtype == np.uint8
        assert labels.min() == 0 and labels.max() == 9
        for name in datasets.FILES[split]:
            path = root / name if (root / name).is_file() else root / (name + ".gz")
            datasets.verify_file(path, datasets.CHECKSUMS[name])
            datasets.verify_file(path, md5[name])
