"""benchmarks/charlm_torch.py, the PyTorch side of charlm.py's whole-command comparison, runs."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("preset", ["gpt", "lstm"])
def test_a_few_steps_print_the_validation_loss(preset):
    pytest.importorskip("torch")
    if not os.environ.get("SHAKESPEARE_DIR"):
        pytest.skip("needs tiny Shakespeare (SHAKESPEARE_DIR)")
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "charlm_torch.py"), "--preset", preset,
                             "--steps", "3"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    assert words[0] == "val_loss" and 3.0 < float(words[1]) < 5.0 and words[2] == "seconds"   # ln 65 = 4.17
