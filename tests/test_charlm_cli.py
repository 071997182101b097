"""examples/charlm.py's command line: a few steps of a tiny model on a small text, metrics JSON,
save/load/sample, Ctrl-C, and every path and number checked before anything trains.

Nothing here needs tiny Shakespeare or the network: the text is written by the test, the
model is the lstm preset shrunk (see ``tiny``), downloads go to a refused port on 127.0.0.1.
"""
import importlib
import json
import math
import signal
import socket
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from test_mnist_stumbles import _ctrl_c  # a function that presses Ctrl-C, by a real SIGINT or the exception

import nn
from nn.datasets import shakespeare

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TEXT = "".join(f"{word} the {other}, {n}.\n" for n in range(60)
               for word, other in [("To be", "question"), ("All the world's", "stage"), ("Now is", "winter")])


@pytest.fixture(scope="module")
def charlm():
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield importlib.import_module("charlm")
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.fixture
def tiny(charlm, monkeypatch):
    """The lstm preset shrunk to a second's work: 4 steps, evaluated after steps 2 and 4."""
    from charlm_helpers import presets
    small = replace(presets.PRESETS["lstm"], model_options=dict(embedding_dim=8, hidden_size=16, num_layers=1),
                    block_size=12, batch_size=4, steps=4, warmup=1, eval_interval=2, eval_windows=200,
                    eval_batch=200)
    monkeypatch.setitem(presets.PRESETS, "lstm", small)
    return small


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(TEXT)
    return path


def run(charlm, *argv) -> int:
    try:
        return charlm.main([str(a) for a in argv])
    except KeyboardInterrupt:  # left to propagate, it would stop the whole pytest session
        pytest.fail("Ctrl-C escaped main() as a traceback")


def metrics_of(charlm, tmp_path, *argv) -> dict:
    path = tmp_path / "metrics.json"
    assert run(charlm, "--quiet", "--metrics-json", path, *argv) == 0
    return json.loads(path.read_text())


def one_line(err: str) -> str:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


# A run


def test_a_run_prints_each_evaluation_the_final_losses_and_a_sample(charlm, tiny, text, capsys):
    assert run(charlm, "--text", text, "--sample", 30, "--prompt", "To be") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("step 2/4 | train ") and " | val " in out[0] and out[0].endswith(" s")
    assert out[1].startswith("step 4/4 | train ")
    assert out[2].startswith("Validation loss: ") and "(train " in out[2] and "lstm preset, 4 steps, " in out[2]
    assert out[3] == "Sample (30 characters, temperature 1):"
    assert "\n".join(out[4:]).startswith("To be") and len("\n".join(out[4:])) == 35


def test_the_metrics_json_has_the_final_losses_history_and_sample(charlm, tiny, text, tmp_path):
    metrics = metrics_of(charlm, tmp_path, "--text", text, "--sample", 20, "--seed", 3)
    assert metrics["preset"] == "lstm" and metrics["steps"] == 4 and metrics["seed"] == 3
    assert [h["step"] for h in metrics["history"]] == [2, 4]
    assert all(set(h) == {"step", "train_loss", "val_loss", "seconds"} for h in metrics["history"])
    last = metrics["history"][-1]
    assert metrics["train_loss"] == last["train_loss"] and metrics["val_loss"] == last["val_loss"]
    assert 0 < metrics["val_loss"] < 2 * math.log(metrics["vocab_size"])
    assert metrics["seconds"] == last["seconds"] >= metrics["history"][0]["seconds"] > 0
    assert metrics["sample"].startswith("\n") and len(metrics["sample"]) == 21   # the default prompt first
    assert set(metrics["sample"]) <= set(TEXT)
    assert metrics["vocab_size"] == len(set(TEXT)) and metrics["text"] == str(text)
    assert metrics["train_characters"] == int(0.9 * len(TEXT))
    assert metrics["train_characters"] + metrics["val_characters"] == len(TEXT)


def test_the_vocabulary_is_every_character_of_the_file_as_it_is(charlm, tiny, tmp_path):
    text = tmp_path / "windows.txt"
    text.write_bytes(TEXT.replace("\n", "\r\n").encode())
    metrics = metrics_of(charlm, tmp_path, "--text", text)
    assert metrics["vocab_size"] == len(set(TEXT)) + 1   # "\r" too
    assert metrics["train_characters"] + metrics["val_characters"] == len(TEXT) + TEXT.count("\n")


def test_a_text_without_newlines_starts_the_sample_from_its_first_character(charlm, tiny, tmp_path):
    text = tmp_path / "one-line.txt"
    text.write_text(TEXT.replace("\n", " "))
    assert metrics_of(charlm, tmp_path, "--text", text, "--sample", 5)["sample"][0] == "T"


def test_quiet_prints_the_final_line_only_and_no_sample_unless_asked(charlm, tiny, text, tmp_path, capsys):
    metrics = metrics_of(charlm, tmp_path, "--text", text)
    assert metrics["sample"] is None
    out = capsys.readouterr().out
    assert one_line(out).startswith("Validation loss: ")


def test_the_same_seed_repeats_the_run_and_another_does_not(charlm, tiny, text, tmp_path):
    first, second, other = (metrics_of(charlm, tmp_path, "--text", text, "--sample", 40, "--seed", seed)
                            for seed in (5, 5, 6))
    assert first["history"][-1]["val_loss"] == second["history"][-1]["val_loss"]
    assert first["sample"] == second["sample"]
    assert first["val_loss"] != other["val_loss"] and first["sample"] != other["sample"]


def test_without_tqdm_the_run_still_reports(charlm, tiny, text, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` fail
    assert run(charlm, "--text", text, "--sample", 0) == 0
    assert "step 4/4 | train" in capsys.readouterr().out


def test_plots_write_the_loss_curves(charlm, tiny, text, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plots = tmp_path / "plots" / "new"
    assert run(charlm, "--text", text, "--plots", plots, "--sample", 0) == 0
    assert (plots / "loss.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"Plots written to {plots}: loss.png" in capsys.readouterr().out


# Save, load, sample


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_a_saved_model_loads_evaluates_the_same_and_samples_the_same(charlm, tiny, text, tmp_path, suffix):
    if suffix == ".safetensors":
        pytest.importorskip("safetensors")
    model = tmp_path / f"model{suffix}"
    trained = metrics_of(charlm, tmp_path, "--text", text, "--save", model, "--sample", 50, "--top-k", 5,
                         "--temperature", 0.7)
    loaded = metrics_of(charlm, tmp_path, "--text", text, "--load", model, "--sample", 50, "--top-k", 5,
                        "--temperature", 0.7)
    assert loaded["steps"] == 0 and [h["step"] for h in loaded["history"]] == [0]   # nothing trained
    assert loaded["val_loss"] == trained["val_loss"] and loaded["train_loss"] == trained["train_loss"]
    assert loaded["sample"] == trained["sample"] and loaded["loaded"] == str(model)
    assert loaded["seconds"] == 0.0 and loaded["seconds_per_step"] is None
    state = nn.load_state(model)
    assert str(state["preset"]) == "lstm"
    assert "".join(map(chr, state["vocab"])) == "".join(sorted(set(TEXT)))
    assert {"embedding.weight", "lstm.weight_ih_l0", "head.weight"} <= set(state["model"])


def test_load_with_steps_trains_on_from_the_checkpoint(charlm, tiny, text, tmp_path):
    model = tmp_path / "model.npz"
    first = metrics_of(charlm, tmp_path, "--text", text, "--save", model)
    more = metrics_of(charlm, tmp_path, "--text", text, "--load", model, "--steps", 2, "--save", model)
    assert more["steps"] == 2 and [h["step"] for h in more["history"]] == [2]
    assert more["val_loss"] != first["val_loss"]


def test_a_checkpoint_of_another_preset_names_the_preset(charlm, tiny, text, tmp_path, capsys, monkeypatch):
    from charlm_helpers import presets
    from charlm_helpers.checkpoint import save_checkpoint
    model = tmp_path / "model.npz"
    tokenizer = nn.data.CharTokenizer(TEXT)
    save_checkpoint(model, charlm.build_model(tiny, tokenizer.vocab_size, 0), tokenizer, "mystery")
    assert run(charlm, "--text", text, "--load", model) == 2
    line = one_line(capsys.readouterr().err)
    assert line == f"charlm.py: --load {model}: a model of the 'mystery' preset, which this charlm.py does not " \
                   f"have (it has lstm)"
    monkeypatch.setitem(presets.PRESETS, "mystery", replace(tiny, name="mystery"))
    assert run(charlm, "--text", text, "--load", model, "--preset", "lstm") == 2
    assert one_line(capsys.readouterr().err).endswith("pass --preset mystery, or leave --preset out")
    assert run(charlm, "--text", text, "--load", model, "--quiet") == 0   # the checkpoint's preset by default


def test_a_checkpoint_that_does_not_fit_the_model_says_which_weights_differ(charlm, tiny, text, tmp_path, capsys,
                                                                           monkeypatch):
    from charlm_helpers import presets
    model = tmp_path / "model.npz"
    assert run(charlm, "--text", text, "--save", model, "--quiet") == 0
    capsys.readouterr()
    wider = replace(tiny, model_options=dict(tiny.model_options, hidden_size=24))
    monkeypatch.setitem(presets.PRESETS, "lstm", wider)
    assert run(charlm, "--text", text, "--load", model) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"charlm.py: --load {model}: does not fit the lstm preset's model: 'lstm.weight_ih_l0'")


@pytest.mark.parametrize("content, words", [(b"garbage\n", "is not a checkpoint"), (b"", "is empty"),
                                            (None, "is not a model saved by charlm.py --save: it has no model and "
                                                   "no vocab and no preset entry")])
def test_a_file_that_is_not_a_charlm_model_is_one_line(charlm, tiny, text, tmp_path, capsys, content, words):
    path = tmp_path / "model.npz"
    if content is None:
        nn.save(nn.Linear(2, 3), path)   # a checkpoint, but of a bare layer
    else:
        path.write_bytes(content)
    assert run(charlm, "--text", text, "--load", path) == 2
    line = one_line(capsys.readouterr().err)
    assert str(path) in line and words in line


def test_a_text_with_characters_the_loaded_model_lacks_is_one_line(charlm, tiny, text, tmp_path, capsys):
    model = tmp_path / "model.npz"
    assert run(charlm, "--text", text, "--save", model, "--quiet") == 0
    capsys.readouterr()
    other = tmp_path / "other.txt"
    other.write_text(TEXT.replace("world", "WORLD"))
    assert run(charlm, "--text", other, "--load", model) == 2
    line = one_line(capsys.readouterr().err)
    assert f"--load {model}: the text has a character the model's vocabulary lacks (character 'W'" in line
    assert line.endswith("pass the --text it was trained on")


# Before anything trains: every path, number and character


@pytest.fixture
def no_loading(charlm, monkeypatch):
    """Fail the test if the run gets as far as reading the text."""
    def load_text(path):
        raise AssertionError("the run started although something on its command line is wrong")
    monkeypatch.setattr(charlm, "load_text", load_text)


@pytest.fixture
def no_training(charlm, monkeypatch):
    """Fail the test if the run gets as far as training."""
    def train(*args):
        raise AssertionError("the run trained although something on its command line is wrong")
    monkeypatch.setattr(charlm, "train", train)


def usage_error(charlm, capsys, argv) -> str:
    with pytest.raises(SystemExit) as info:
        charlm.main([str(a) for a in argv])
    assert info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("option, path, words", [
    ("--text", "no/such.txt", "no such file"),
    ("--text", "dir", "a directory, not a file"),
    ("--load", "missing.npz", "no such file"),
    ("--load", "dir", "a directory, not a file"),
    ("--save", "missing/model.npz", "the directory {tmp}/missing does not exist"),
    ("--save", "dir", "it is a directory"),
    ("--save", "file/model.npz", "{tmp}/file is not a directory"),
    ("--metrics-json", "missing/metrics.json", "the directory {tmp}/missing does not exist"),
    ("--plots", "file", "a file, not a directory"),
    ("--plots", "file/plots", "{tmp}/file is not a directory"),
])
def test_a_wrong_path_stops_before_anything_loads_in_one_line(charlm, no_loading, capsys, tmp_path, option, path,
                                                              words):
    (tmp_path / "file").write_text("")
    (tmp_path / "dir").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    line = one_line(usage_error(charlm, capsys, [option, tmp_path / path, "--quiet"]))
    assert option in line and str(tmp_path / path) in line
    assert words.format(tmp=tmp_path) in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created, no download started


@pytest.mark.parametrize("module, option, path", [("matplotlib", "--plots", "plots"),
                                                  ("safetensors", "--save", "model.safetensors")])
def test_a_missing_optional_package_stops_before_anything_loads(charlm, no_loading, capsys, tmp_path, monkeypatch,
                                                                module, option, path):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    line = one_line(usage_error(charlm, capsys, [option, tmp_path / path]))
    assert f"needs {module}" in line or f"needs the {module} package" in line
    assert "pip install" in line


@pytest.mark.parametrize("argv", [["--steps", "-1"], ["--steps", "two"], ["--seed", "-1"], ["--seed", str(2 ** 32)],
                                  ["--sample", "-1"], ["--temperature", "0"], ["--temperature", "nan"],
                                  ["--temperature", "hot"], ["--top-k", "0"], ["--preset", "nope"], ["--prompt", ""]])
def test_impossible_arguments_are_usage_errors(charlm, no_loading, capsys, argv):
    err = usage_error(charlm, capsys, argv)
    assert err.startswith("usage:") and f"argument {argv[0]}:" in err and "Traceback" not in err


def test_a_prompt_outside_the_vocabulary_stops_before_training(charlm, tiny, no_training, text, capsys):
    assert run(charlm, "--text", text, "--prompt", "To be?") == 2
    assert one_line(capsys.readouterr().err) == ("charlm.py: --prompt: character '?' (at position 5) is not in the "
                                                 f"vocabulary of {len(set(TEXT))} characters")


@pytest.mark.parametrize("content, words", [
    ("short text\n" * 10, "110 characters are too few for the lstm preset: its last 10% must hold a window of 13, "
                          "so at least 121 characters"),
    (b"caf\xe9 au lait", "not UTF-8 text (invalid continuation byte at byte 3)"),
    ("", "0 characters are too few"),
])
def test_a_text_that_cannot_train_stops_before_training(charlm, tiny, no_training, tmp_path, capsys, content, words):
    path = tmp_path / "text.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert run(charlm, "--text", path) == 2
    assert one_line(capsys.readouterr().err).startswith(f"charlm.py: --text {path}: {words}")


@pytest.fixture
def refused_mirror(monkeypatch):
    """Tiny Shakespeare's only mirror: a port on 127.0.0.1 where nobody listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(shakespeare, "MIRRORS", [f"http://127.0.0.1:{port}/"])


def test_offline_without_the_corpus_says_where_to_put_it_and_leaves_no_cache(charlm, tiny, tmp_path, capsys,
                                                                             monkeypatch, refused_mirror):
    monkeypatch.delenv("SHAKESPEARE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert run(charlm, "--quiet") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("charlm.py: cannot load the text: input.txt not found in ")
    assert "refused" in lines[1]
    assert lines[-1].startswith("To work offline, put tiny Shakespeare's input.txt")
    assert str(tmp_path / "cache" / "dagrad" / "shakespeare") in lines[-1]
    assert list(tmp_path.iterdir()) == []


# Ctrl-C


@pytest.mark.parametrize("how", ["signal", "exception"])
def test_ctrl_c_in_training_stops_after_the_step_reports_and_still_saves(charlm, tiny, text, tmp_path, capsys,
                                                                         monkeypatch, how):
    # "signal": a real SIGINT, which the loop's handler turns into a stop after the step; "exception": the
    # KeyboardInterrupt itself (a second Ctrl-C, or SIGINT handled elsewhere), which cuts the step short.
    from charlm_helpers.report import Report
    step = Report.step

    def ctrl_c_in_step_3(self, loss):
        if len(self.step_losses) == 2:
            if how == "signal":
                signal.raise_signal(signal.SIGINT)
            else:
                raise KeyboardInterrupt
        step(self, loss)
    monkeypatch.setattr(Report, "step", ctrl_c_in_step_3)
    model, metrics = tmp_path / "model.npz", tmp_path / "metrics.json"
    assert run(charlm, "--text", text, "--save", model, "--metrics-json", metrics, "--sample", 5) == 130
    out, err = capsys.readouterr()
    assert "Traceback" not in err   # the lines before the last are the progress bar's
    assert err.strip().splitlines()[-1] == f"Interrupted at step 3/4: stopping with the weights as they are, " \
                                           f"then saving them to {model}"
    assert "Validation loss: " in out and "lstm preset, 3 steps" in out and f"Model saved to {model}" in out
    saved = json.loads(metrics.read_text())
    assert saved["steps"] == 3 and [h["step"] for h in saved["history"]] == [2, 3]   # no evaluation after step 4
    assert len(saved["sample"]) == 6
    nn.load(charlm.build_model(tiny, len(set(TEXT)), 0), model)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # the handler is put back


@pytest.mark.parametrize("how", ["signal", "exception"])
def test_ctrl_c_while_loading_is_one_line_and_status_130(charlm, tmp_path, capsys, monkeypatch, how):
    monkeypatch.setattr(charlm, "load_text", _ctrl_c(how))
    model = tmp_path / "model.npz"
    assert run(charlm, "--save", model) == 130
    out, err = capsys.readouterr()
    assert one_line(err) == f"Interrupted while loading; nothing was saved to {model}"
    assert out == "" and not model.exists()


def test_ctrl_c_in_the_final_evaluation_still_saves(charlm, tiny, text, tmp_path, capsys, monkeypatch):
    evaluate, calls = charlm.evaluate, []

    def ctrl_c_in_the_last_evaluation(*args):
        calls.append(args)
        if len(calls) >= 3:   # the evaluations after step 2 were the first two
            raise KeyboardInterrupt
        return evaluate(*args)
    monkeypatch.setattr(charlm, "evaluate", ctrl_c_in_the_last_evaluation)
    model = tmp_path / "model.npz"
    assert run(charlm, "--text", text, "--save", model, "--quiet") == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["Interrupted at step 4/4: stopping with the weights as they are, then saving them to "
                   f"{model}", f"Interrupted during the final evaluation; the model is saved to {model}"]
    assert model.exists()


def test_ctrl_c_while_sampling_keeps_the_saved_model(charlm, tiny, text, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(charlm, "generate", _ctrl_c("exception"))
    model = tmp_path / "model.npz"
    assert run(charlm, "--text", text, "--save", model, "--sample", 10, "--quiet") == 130
    assert capsys.readouterr().err.strip() == f"Interrupted while sampling; the model is saved to {model}"
    assert model.exists()
