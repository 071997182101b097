"""XOR, the textbook's toy: a 2-4-1 sigmoid network learns it with plain SGD and momentum."""
import numpy as np

import nn
from autograd import Tensor
from nn import functional as F

X = Tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]))
y = np.array([[0], [1], [1], [0]], dtype=np.float32)
nn.manual_seed(0)
model = nn.MLP([2, 4, 1], activation="sigmoid", output_activation="sigmoid")
opt = nn.optim.SGD(model.parameters(), lr=2.0, momentum=0.9)
for epoch in range(1000):
    loss = F.mse_loss(model(X), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
error = float(np.abs(model(X).data - y).max())
print(f"outputs {model(X).data.ravel().round(3)}, largest error {error:.4f}")
