"""The textbook's toy: examples/xor.py trains a 2-4-1 sigmoid MLP that learns XOR."""
import pathlib
import runpy

import numpy as np

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "xor.py"


def test_xor_example_learns_xor(capsys):
    result = runpy.run_path(str(EXAMPLE), run_name="__main__")
    assert result["error"] < 0.05
    outputs = result["model"](result["X"]).data.ravel()
    np.testing.assert_array_equal(outputs.round(), [0, 1, 1, 0])
    assert "largest error" in capsys.readouterr().out
