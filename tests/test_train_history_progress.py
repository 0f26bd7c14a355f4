import csv
import io
import json

import pytest

from layergraph.train import EarlyStopping, History, ProgressLogger, Trainer
from train_support import SGD, make_data, make_net


class FakeTTY(io.StringIO):
    encoding = "utf-8"

    def isatty(self):
        return True


def test_history_appends_pads_and_finds_the_best():
    h = History()
    h.append({"epoch": 1, "loss": 0.5})
    h.append({"epoch": 2, "loss": 0.25, "val_loss": 0.75})
    h.append({"epoch": 3, "loss": 0.375, "val_loss": 0.5})
    assert h == {"epoch": [1, 2, 3], "loss": [0.5, 0.25, 0.375], "val_loss": [None, 0.75, 0.5]}
    assert h.n_epochs == 3 and h.best("loss") == (2, 0.25) and h.best("val_loss", "max") == (2, 0.75)
    with pytest.raises(KeyError, match="no quantity 'acc'"):
        h.best("acc")


def test_history_writes_csv_and_json_that_read_back_exactly(tmp_path):
    x, t = make_data(30)
    hist = Trainer(make_net(), SGD(0.1), batch_size=7, seed=0, verbose=0).fit(x, t, epochs=3,
                                                                               validation_data=(x, t))
    hist.to_csv(tmp_path / "h.csv")
    with open(tmp_path / "h.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(hist)
    assert len(rows) == 4
    for i, row in enumerate(rows[1:]):
        assert [float(v) for v in row] == [float(hist[k][i]) for k in rows[0]]
    hist.to_json(tmp_path / "h.json")
    assert json.loads((tmp_path / "h.json").read_text()) == hist
    assert History.from_json(tmp_path / "h.json") == hist
    h = History()
    h.append({"loss": float("nan")})
    h.to_json(tmp_path / "nan.json")
    assert json.loads((tmp_path / "nan.json").read_text()) == {"loss": [None]}


def run(verbose, stream, epochs=3, **kw):
    x, t = make_data(30)
    trainer = Trainer(make_net(), SGD(0.1), batch_size=10, seed=0, verbose=verbose, stream=stream, **kw)
    return trainer.fit(x, t, epochs=epochs, validation_data=(x, t))


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    hist = run(1, out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in out.getvalue()
    for i, line in enumerate(lines):
        assert line.startswith(f"epoch {i + 1}/3 ")
        assert f"loss {hist['loss'][i]:.4f}" in line and f"val_accuracy {hist['val_accuracy'][i]:.4f}" in line


def test_bar_on_a_terminal_and_lines_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    tty = FakeTTY()
    run(1, tty)
    text = tty.getvalue()
    assert "\r" in text and "|" in text and "3/3" in text and "\u2588" in text
    assert text.count("\n") == 3  # the bar is redrawn in place; one final line per epoch
    monkeypatch.setenv("CI", "true")
    tty = FakeTTY()
    run(1, tty)
    assert "\r" not in tty.getvalue() and len(tty.getvalue().splitlines()) == 3
    tty = FakeTTY()
    monkeypatch.delenv("CI")
    run(2, tty)  # verbose=2: lines even on a terminal
    assert "\r" not in tty.getvalue() and len(tty.getvalue().splitlines()) == 3


def test_verbose_zero_is_silent_and_early_stopping_reason_is_printed(capsys):
    run(0, None)
    assert capsys.readouterr().out == ""
    run(1, None, epochs=5, callbacks=[EarlyStopping("loss", patience=0, min_delta=10.0)])
    out = capsys.readouterr().out
    assert "early stopping at epoch 2" in out and len(out.splitlines()) == 3
    with pytest.raises(ValueError, match="verbose"):
        ProgressLogger(verbose=3)


def test_divergence_is_not_printed_twice(capsys):
    from test_train_divergence import BlowUp, net_with
    from layergraph.train import DivergenceError

    x, t = make_data(30)
    with pytest.raises(DivergenceError):
        Trainer(net_with(BlowUp(at=5)), SGD(0.1), batch_size=10, seed=0, verbose=2).fit(x, t, epochs=3)
    out = capsys.readouterr().out
    assert out.startswith("epoch 1/3 ") and "diverged" not in out and len(out.splitlines()) == 1
