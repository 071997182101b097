"""Run under mpiexec -n 2 with a folder: fit for very many epochs with a checkpoint each
epoch; each rank prints 'ready' after the first epoch, then Ctrl-C must stop both."""
import os
import sys

import numpy as np

import nn
from nn import distributed as dist


class Ready(nn.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            print("ready", dist.rank(), flush=True)


def main():
    dist.init()
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((256, 20)).astype(np.float32), rng.integers(0, 3, 256)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    model.compile("adam", loss="cross_entropy")
    checkpoint = nn.callbacks.ModelCheckpoint(os.path.join(sys.argv[1], "last.npz"))
    model.fit(X, y, epochs=100_000, batch_size=16, callbacks=[checkpoint, Ready()], verbose=0, seed=0,
              blas_threads=None)


if __name__ == "__main__":
    main()
