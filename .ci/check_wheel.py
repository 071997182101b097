"""Run by .ci/run in a fresh venv holding only the built wheel: import every subpackage, train a step.

Run from outside the checkout, so only the installed packages can be imported.
"""
import importlib
import pkgutil

import numpy as np

import autograd
import nn

for package in (autograd, nn):
    assert "site-packages" in package.__file__, f"{package.__name__} comes from {package.__file__}, not the wheel"
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)

rng = np.random.default_rng(0)
X, y = rng.standard_normal((64, 20)).astype(np.float32), rng.integers(0, 3, 64)
model = nn.MLP([20, 16, 3])
opt = nn.optim.SGD(model.parameters(), lr=0.5)
losses = []
for _ in range(20):
    loss = nn.functional.cross_entropy(model(autograd.Tensor(X)), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
assert losses[-1] < losses[0], losses
print(f"wheel: every module of autograd and nn imports; 20 steps take the loss {losses[0]:.3f} -> {losses[-1]:.3f}")
