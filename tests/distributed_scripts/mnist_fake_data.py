"""Run under mpiexec -n 2: examples/mnist.py's main on a tiny random stand-in for MNIST, with
the command line given after the script's name. The example itself joins the ranks; only
rank 0 may print or write files."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import mnist  # noqa: E402

RNG = np.random.default_rng(0)
IMAGES = RNG.standard_normal((300, 784)).astype(np.float32)
LABELS = RNG.integers(0, 10, 300)
FAKE_DATA = ((IMAGES[:260], LABELS[:260]), (IMAGES[260:], LABELS[260:]), (IMAGES[260:], LABELS[260:]))

if __name__ == "__main__":
    def load_data(preset, data_dir):
        if preset.architecture != "cnn":
            return FAKE_DATA
        return tuple((images.reshape(-1, 1, 28, 28), labels) for images, labels in FAKE_DATA)
    mnist.load_data = load_data
    sys.exit(mnist.main(sys.argv[1:]))
