"""The adding problem (Hochreiter & Schmidhuber 1997): LSTM and GRU learn it at length 100, a tanh RNN does not.

Each model reads sequences of ``length`` steps (a number and a marker per step) and predicts the sum of the two
marked numbers. Predicting the constant 1.0 scores a test MSE of 1/6 (about 0.167); a model that remembers the
marked numbers across ~50 steps gets close to 0. Training uses Adam and global gradient-norm clipping
(``Trainer(clip_norm=1.0)``).

Run ``python examples/adding_problem.py`` (about a quarter of an hour on one core at the defaults) or
``--length 50 --epochs 5`` for a quick look; ``--out curves.json`` saves the per-epoch test MSE of each model.
"""

import argparse
import json
import time

import layergraph as lg

MODELS = {"lstm": lambda h, seed: lg.LSTM(2, h, return_sequences=False, forget_bias=1.0, rng=seed),
          "gru": lambda h, seed: lg.GRU(2, h, return_sequences=False, rng=seed),
          "rnn": lambda h, seed: lg.RNN(2, h, return_sequences=False, rng=seed)}


def run(model, length, hidden, epochs, n_train, n_test, batch_size, lr, seed):
    """Train one model; return the list of per-epoch test MSEs and the seconds taken."""
    x, t = lg.data.adding_problem(n_train, length, seed=seed)
    x_test, t_test = lg.data.adding_problem(n_test, length, seed=seed + 1)
    net = lg.Sequential([("rec", MODELS[model](hidden, seed)), ("out", lg.Affine(hidden, 1, rng=seed + 2))],
                        loss=lg.MeanSquaredError())
    trainer = lg.Trainer(net, lg.optim.Adam(lr), batch_size=batch_size, seed=seed, metrics=(), verbose=0,
                         clip_norm=1.0)
    start = time.perf_counter()
    curve = []
    for epoch in range(1, epochs + 1):
        trainer.fit(x, t, epochs=epoch)
        curve.append(trainer.evaluate(x_test, t_test)["loss"])
        print(f"{model:>4}  epoch {epoch:2d}  step {trainer.step:5d}  test MSE {curve[-1]:.4f}", flush=True)
    return curve, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default="lstm,gru,rnn")
    parser.add_argument("--out", help="write the curves to this JSON file")
    args = parser.parse_args(argv)
    results = {}
    for model in args.models.split(","):
        curve, seconds = run(model, args.length, args.hidden, args.epochs, args.n_train, args.n_test,
                             args.batch_size, args.lr, args.seed)
        results[model] = {"test_mse": curve, "seconds": seconds}
    print(f"\nlength {args.length}: constant-prediction baseline MSE {lg.data.ADDING_BASELINE_MSE:.3f}")
    for model, res in results.items():
        print(f"{model:>4}: final test MSE {res['test_mse'][-1]:.4f}  best {min(res['test_mse']):.4f}  "
              f"({res['seconds']:.0f} s)")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"args": vars(args), "results": results}, fh, indent=1)
    return results


if __name__ == "__main__":
    main()
