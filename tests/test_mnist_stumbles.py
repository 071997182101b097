"""examples/mnist.py's smaller stumbles: Ctrl-C outside training, an empty cache left by an
offline first run, seeds the textbook's RandomState cannot take, a checkpoint of another preset.

No network and no MNIST: the data is test_mnist_cli's tiny random stand-in, downloads go to a
refused port on 127.0.0.1.
"""
import signal

import numpy as np
import pytest
from test_mnist_cli import fake_data, refused_mirror  # noqa: F401 (fixtures)
from test_mnist_example import example  # noqa: F401 (the fixture that imports examples/mnist.py)

import nn
from nn.datasets import download
from nn.datasets import mnist as datasets


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def _run(example, argv) -> int:  # noqa: F811
    try:
        return example.main(argv)
    except KeyboardInterrupt:  # left to propagate, it would stop the whole pytest session
        pytest.fail("Ctrl-C escaped main() as a traceback")


def _ctrl_c(how: str):
    """A function that presses Ctrl-C: a real SIGINT (outside fit, Python's handler raises
    KeyboardInterrupt) or the KeyboardInterrupt itself."""
    def press(*args, **kwargs):
        if how == "signal":
            signal.raise_signal(signal.SIGINT)
        raise KeyboardInterrupt  # not reached after a real SIGINT
    return press


# Ctrl-C while loading MNIST, and during the final evaluation


@pytest.mark.parametrize("how", ["signal", "exception"])
def test_ctrl_c_while_loading_is_one_line_and_status_130(example, capsys, tmp_path, monkeypatch,  # noqa: F811
                                                         how):
    monkeypatch.setattr(example, "load_data", _ctrl_c(how))
    weights = tmp_path / "model.npz"
    assert _run(example, ["--save", str(weights)]) == 130
    out, err = capsys.readouterr()
    assert _one_line(err) == f"Interrupted while loading MNIST; nothing was saved to {weights}"
    assert out == "" and not weights.exists()


def test_ctrl_c_during_a_download_exits_cleanly_and_leaves_no_cache_directory(example, capsys,  # noqa: F811
                                                                               tmp_path, monkeypatch,
                                                                               refused_mirror):  # noqa: F811
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(download, "_fetch", _ctrl_c("exception"))
    assert _run(example, ["--quiet"]) == 130
    assert _one_line(capsys.readouterr().err) == "Interrupted while loading MNIST"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("how", ["signal", "exception"])
def test_ctrl_c_while_load_reads_a_checkpoint_is_one_line_and_status_130(example, fake_data, capsys,  # noqa: F811
                                                                         tmp_path, monkeypatch, how):
    checkpoint = tmp_path / "model.npz"
    checkpoint.write_bytes(b"not read")
    monkeypatch.setattr(nn, "load", _ctrl_c(how))
    assert _run(example, ["--load", str(checkpoint), "--evaluate", "--quiet"]) == 130
    out, err = capsys.readouterr()
    assert _one_line(err) == f"Interrupted while reading {checkpoint}"
    assert out == ""


@pytest.mark.parametrize("how", ["signal", "exception"])
def test_ctrl_c_during_the_final_evaluation_still_saves_in_one_line(example, fake_data, capsys,  # noqa: F811
                                                                    tmp_path, monkeypatch, how):
    monkeypatch.setattr(example, "predict", _ctrl_c(how))
    weights = tmp_path / "model.npz"
    assert _run(example, ["--epochs", "1", "--save", str(weights), "--quiet"]) == 130
    out, err = capsys.readouterr()
    assert _one_line(err) == f"Interrupted during the final evaluation; the weights are saved to {weights}"
    assert "Test accuracy" not in out
    nn.load(example.build_model(example.preset_from(example.parse_args([])), None), weights)


def test_ctrl_c_while_saving_does_not_save_again(example, fake_data, capsys, tmp_path,  # noqa: F811
                                                 monkeypatch):
    saves = []

    def save(*args):
        saves.append(args)
        raise KeyboardInterrupt
    monkeypatch.setattr(nn, "save", save)
    weights = tmp_path / "model.npz"
    assert _run(example, ["--epochs", "1", "--save", str(weights), "--quiet"]) == 130
    out, err = capsys.readouterr()
    assert _one_line(err) == f"Interrupted during the final evaluation; nothing was saved to {weights}"
    assert "Test accuracy" in out and len(saves) == 1


# An offline first run leaves no empty directory behind


def _refused(tmp_path, directory, refused_mirror):  # noqa: F811
    with pytest.raises(datasets.MNISTNotFoundError, match="refused"):
        datasets.load_mnist("train", directory, mirrors=[refused_mirror], progress=False)


def test_a_failed_download_removes_the_directories_it_made(tmp_path, refused_mirror):  # noqa: F811
    _refused(tmp_path, tmp_path / "cache" / "dagrad" / "mnist", refused_mirror)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_download_keeps_directories_that_were_there(tmp_path, refused_mirror):  # noqa: F811
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    _refused(tmp_path, tmp_path / "empty", refused_mirror)
    _refused(tmp_path, tmp_path / "full" / "new" / "mnist", refused_mirror)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "full"]
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["notes.txt"]


def test_a_directory_that_got_a_file_stays(tmp_path, refused_mirror, monkeypatch):  # noqa: F811
    # The first file of a split arrives, the second does not: the directory and the file stay.
    fetch = download._fetch

    def first_file_only(url, target, *args):
        if "labels" in url:
            return fetch(url, target, *args)
        target.write_bytes(b"")  # as if downloaded
    monkeypatch.setattr(download, "_fetch", first_file_only)
    root = tmp_path / "cache" / "mnist"
    _refused(tmp_path, root, refused_mirror)
    assert [p.name for p in root.iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_the_offline_first_run_of_the_example_leaves_no_cache(example, capsys, tmp_path,  # noqa: F811
                                                              monkeypatch, refused_mirror):  # noqa: F811
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert example.main(["--quiet"]) == 2
    assert "cannot load MNIST" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --seed: the range every preset can take


@pytest.mark.parametrize("preset", ["seed", "fast", "cnn"])
@pytest.mark.parametrize("seed", [-1, 2 ** 32, 10 ** 30])
def test_a_seed_out_of_range_is_a_usage_error_naming_the_range(example, capsys, preset, seed):  # noqa: F811
    with pytest.raises(SystemExit) as info:
        example.parse_args(["--preset", preset, "--seed", str(seed)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --seed: must be from 0 to {2 ** 32 - 1}, not {seed}" in err and "Traceback" not in err


@pytest.mark.parametrize("preset", ["seed", "fast"])
@pytest.mark.parametrize("seed", [0, 2 ** 32 - 1])
def test_the_ends_of_the_seed_range_work_in_every_preset(example, preset, seed):  # noqa: F811
    args = example.parse_args(["--preset", preset, "--seed", str(seed)])
    report = example.Report(example.preset_from(args), args)  # the textbook's RandomState, or a Generator
    nn.manual_seed(args.seed)
    example.build_model(example.preset_from(args), report.rng)


# --load of a checkpoint saved by another preset


def _save_model(example, preset, path):  # noqa: F811
    from mnist_helpers.presets import PRESETS
    nn.save(example.build_model(PRESETS[preset], np.random.RandomState(0)), path)


@pytest.mark.parametrize("saved, loaded", [("best", "seed"), ("seed", "fast"), ("fast", "best"),
                                           ("cnn-best", "cnn"), ("cnn", "fast")])
def test_a_checkpoint_of_another_preset_names_the_preset_to_pass(example, fake_data, capsys,  # noqa: F811
                                                                 tmp_path, saved, loaded):
    path = tmp_path / "weights.npz"
    _save_model(example, saved, path)
    assert example.main(["--preset", loaded, "--load", str(path), "--evaluate", "--quiet"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"mnist.py: --load {path}: ") and f"the {saved} preset" in line
    assert line.endswith(f"pass --preset {saved}")


def test_a_checkpoint_that_fits_no_preset_keeps_the_reason(example, fake_data, capsys, tmp_path):  # noqa: F811
    path = tmp_path / "weights.npz"
    nn.save(nn.MLP([784, 50, 10]), path)
    assert example.main(["--load", str(path), "--evaluate", "--quiet"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "does not fit" in line and "(256, 784) in the module" in line and "--preset" not in line
