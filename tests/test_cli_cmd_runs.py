"""Run directories of `layergraph train`: resuming from `best.npz`, and `results.json` after Ctrl-C or divergence."""

import json

from test_cli_errors import call, workdir  # noqa: F401 (fixture)

from layergraph.train import load_checkpoint


def _results(path):
    return json.loads(path.read_text())


def test_resume_from_best_continues_in_a_new_directory_and_keeps_the_run(workdir, capsys):
    # lr 0: val_loss never improves after epoch 1, so best.npz holds epoch 1 and checkpoint.npz epoch 3
    status, out, err = call(["train", "--lr", "0", "--epochs", "3", "--save-best", "--out", "run", "-q"], capsys)
    assert status == 0, err
    kept = {name: (workdir / "run" / name).read_bytes() for name in ("checkpoint.npz", "best.npz", "history.csv")}
    status, out, err = call(["train", "--resume", "run/best.npz", "--epochs", "4", "-q"], capsys)
    assert status == 0, err
    assert {name: (workdir / "run" / name).read_bytes() for name in kept} == kept
    branch = workdir / "run-from-best"
    ckpt = load_checkpoint(branch / "checkpoint.npz")
    assert ckpt.meta["trainer"]["epoch"] == 4 and ckpt.meta["trainer"]["history"]["epoch"] == [1, 2, 3, 4]
    # the resumed epoch is the best so far: its file is carried over, and no worse epoch replaced it
    assert (branch / "best.npz").read_bytes() == kept["best.npz"]
    results = _results(branch / "results.json")
    assert results["status"] == "finished" and results["epochs"] == 4 and results["best"]["epoch"] == 1
    status, out, err = call(["train", "--resume", "run/best.npz", "--epochs", "4", "-q"], capsys)
    assert status == 0 and (workdir / "run-from-best-2" / "checkpoint.npz").is_file(), err


def test_ctrl_c_after_an_epoch_writes_status_interrupted(workdir, capsys, monkeypatch):
    from layergraph.cli import run_files

    original = run_files.RunWriter.epoch_end

    def then_ctrl_c(self, trainer, logs):
        original(self, trainer, logs)
        if trainer.epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(run_files.RunWriter, "epoch_end", then_ctrl_c)
    status, out, err = call(["train", "--epochs", "5", "--out", "run", "-q"], capsys)
    assert status == 130 and "the checkpoint holds epoch 2" in out
    results = _results(workdir / "run" / "results.json")
    assert results["status"] == "interrupted" and results["epochs"] == 2
    assert results["steps"] == load_checkpoint(workdir / "run" / "checkpoint.npz").meta["trainer"]["step"]
    assert results["last_epoch"]["epoch"] == 2
