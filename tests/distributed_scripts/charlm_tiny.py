"""examples/charlm.py's main with the lstm preset shrunk to a second's work (as
tests/test_charlm_cli.py's ``tiny``), the command line given after the script's name. Run
alone or under mpiexec -n 2: the example itself joins the ranks."""
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import charlm  # noqa: E402
from charlm_helpers import presets  # noqa: E402

if __name__ == "__main__":
    presets.PRESETS["lstm"] = replace(presets.PRESETS["lstm"], block_size=12, batch_size=4, steps=4, warmup=1,
                                      model_options=dict(embedding_dim=8, hidden_size=16, num_layers=1),
                                      eval_interval=2, eval_windows=201, eval_batch=200)
    sys.exit(charlm.main(sys.argv[1:]))
