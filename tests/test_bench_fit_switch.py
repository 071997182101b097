"""benchmarks/bench_fit_switch.py: its checkouts, its alternation and its checks (no timing asserted).

The commands timed here are a stand-in examples/mnist.py that writes its metrics at once.
"""
import json
import os

import pytest

from benchmarks import bench_fit_switch

STAND_IN = """import json, sys
arguments = sys.argv[1:]
with open(arguments[arguments.index("--metrics-json") + 1], "w") as file:
    json.dump({"test_accuracy": ACCURACY}, file)
with open(__file__ + ".log", "a") as log:
    log.write(" ".join(arguments[:arguments.index("--metrics-json")]) + "\\n")
"""


def stand_in(directory, accuracy=0.9822):
    (directory / "examples").mkdir(parents=True)
    (directory / "examples" / "mnist.py").write_text(STAND_IN.replace("ACCURACY", repr(accuracy)))
    return directory


def runs(directory) -> list:
    return (directory / "examples" / "mnist.py.log").read_text().splitlines()


def test_a_revision_is_exported_and_removed_and_a_directory_taken_as_it_is(tmp_path):
    with bench_fit_switch.checkout("HEAD") as directory:
        assert os.path.isfile(os.path.join(directory, "examples", "mnist.py"))
    assert not os.path.exists(directory)
    with bench_fit_switch.checkout(str(tmp_path)) as directory:
        assert directory == str(tmp_path)
    assert tmp_path.is_dir()
    with pytest.raises(SystemExit, match="neither a directory nor a git revision"):
        with bench_fit_switch.checkout("no-such-revision-anywhere"):
            pass


def test_both_commands_run_alternately_after_a_warm_up_and_the_ratio_is_printed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bench_fit_switch, "settle", lambda: None)
    old, new = stand_in(tmp_path / "old"), stand_in(tmp_path / "new")
    bench_fit_switch.main([str(old), str(new), "--runs", "3", "--epochs", "1", "--data", "somewhere"])
    assert runs(old) == runs(new) == ["--quiet --preset fast --seed 1 --epochs 1 --data somewhere"] * 4
    out = capsys.readouterr().out
    assert "new / old:" in out and "the 1.03x bound" in out and "98.22% in both" in out
    bench_fit_switch.main([str(old), str(new), "--runs", "2", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert len(result["seconds"]["old"]) == len(result["seconds"]["new"]) == 2
    assert result["ratio"] == pytest.approx(result["median"]["new"] / result["median"]["old"])


def test_commands_that_train_different_weights_are_not_compared(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_fit_switch, "settle", lambda: None)
    old, new = stand_in(tmp_path / "old", 0.9822), stand_in(tmp_path / "new", 0.9811)
    with pytest.raises(SystemExit, match="different test accuracies"):
        bench_fit_switch.main([str(old), str(new), "--runs", "1"])


def test_a_failing_command_stops_the_benchmark_with_its_error(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_fit_switch, "settle", lambda: None)
    old = stand_in(tmp_path / "old")
    broken = tmp_path / "new" / "examples"
    broken.mkdir(parents=True)
    (broken / "mnist.py").write_text("raise SystemExit('no MNIST here')")
    with pytest.raises(SystemExit, match="no MNIST here"):
        bench_fit_switch.main([str(old), str(tmp_path / "new"), "--runs", "1"])
