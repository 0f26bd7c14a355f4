"""Build a 784-100-10 network, gradient-check it, and train it for a few steps on synthetic data."""

import numpy as np

import layergraph as lg

rng = np.random.default_rng(0)
net = lg.Sequential(lg.Affine(784, 100, rng=1), lg.ReLU(), lg.Affine(100, 10, rng=2), loss=lg.SoftmaxWithLoss())
print(net.summary(784))

# Synthetic data: 10 noisy class prototypes.
prototypes = rng.random((10, 784), dtype=np.float32)
t = rng.integers(0, 10, 1000)
x = (prototypes[t] + 0.5 * rng.standard_normal((1000, 784))).astype(np.float32)

report = lg.gradcheck(net, x[:8], t[:8])
print(report)
assert report.ok

opt = lg.optim.SGD(lr=0.1)
for epoch in range(5):
    order = rng.permutation(1000)  # every sample once per epoch
    for start in range(0, 1000, 100):
        batch = order[start:start + 100]
        loss, grads = net.loss_and_gradient(x[batch], t[batch])
        opt.update(net.params, grads)  # plain SGD, in place
    print(f"epoch {epoch}  last batch loss {loss:.4f}")
print(f"training accuracy after 5 epochs: {net.accuracy(x, t):.3f}")
