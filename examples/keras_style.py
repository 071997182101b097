"""The Keras way in dagrad: compile, fit, predict on a small problem.

The four lines one of our source documents teaches,

    model = Sequential([Dense(units=153, activation="sigmoid"), Dense(units=21, activation="sigmoid")])
    model.compile(loss=BinaryCrossentropy())
    model.fit(x, y, epochs=100)
    model.predict(x_new)

are below with dagrad's names: a Dense layer is a Linear followed by its activation, and
Linear needs its input width. The problem: 21 yes/no answers about a point x of the plane
(is it on the positive side of each of 21 random lines?), learned from 500 examples.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout

import nn  # noqa: E402

rng = np.random.default_rng(0)
normals, offsets = rng.standard_normal((2, 21)), rng.uniform(-0.5, 0.5, 21)


def answers(x):
    """21 bits per point: which side of each line it lies on."""
    return (x @ normals + offsets > 0).astype(np.float32)


x, x_new = rng.uniform(-1, 1, (500, 2)).astype(np.float32), rng.uniform(-1, 1, (200, 2)).astype(np.float32)
y = answers(x)

nn.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 153), nn.Sigmoid(), nn.Linear(153, 21), nn.Sigmoid())
model.compile(loss="binary_crossentropy", metrics=["accuracy"], optimizer="adam", lr=0.01)
history = model.fit(x, y, epochs=100, verbose=0, seed=0)
predicted = model.predict(x_new)

accuracy = float(((predicted > 0.5) == answers(x_new)).mean())
loss = history.history["loss"]
print(f"training loss {loss[0]:.3f} after the first epoch, {loss[-1]:.3f} after the 100th")
print(f"on 200 new points {100 * accuracy:.1f}% of the 21 answers are right (guessing: 50%)")
print(f"for the new point {x_new[0].round(2)}:")
print(f"  predicted {(predicted[0] > 0.5).astype(int)}")
print(f"  true      {answers(x_new[:1])[0].astype(int)}")
