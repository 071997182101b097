"""examples/keras_style.py: the Keras four lines (Sequential, compile, fit, predict) learn their problem."""
import pathlib
import runpy

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "keras_style.py"


def test_keras_style_example_learns_the_21_answers(capsys):
    result = runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert result["accuracy"] > 0.95
    loss = result["history"].history["loss"]
    assert len(loss) == 100 and loss[-1] < loss[0] / 5
    assert result["predicted"].shape == (200, 21)
    assert "of the 21 answers are right" in capsys.readouterr().out
