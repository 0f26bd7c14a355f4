"""The learning-curve plot: loss, accuracy and learning rate, integer epoch ticks, the held-out set named right."""

import pytest

from layergraph.cli.outputs import learning_curve_figure, plot_history

pytest.importorskip("matplotlib")


def history(n=3, lr=True):
    h = {"epoch": list(range(1, n + 1)), "loss": [1.0 / e for e in range(1, n + 1)],
         "accuracy": [0.5 + 0.1 * e for e in range(n)], "val_loss": [1.2 / e for e in range(1, n + 1)],
         "val_accuracy": [0.4 + 0.1 * e for e in range(n)]}
    if lr:
        h["lr"] = [0.1 * 0.5 ** e for e in range(n)]
    return h


def test_learning_rate_panel_and_integer_epoch_ticks():
    fig = learning_curve_figure(history(3))
    axes = fig.get_axes()
    assert [ax.get_ylabel() for ax in axes] == ["loss", "accuracy", "learning rate"]
    lr_line = axes[2].get_lines()[0]
    assert list(lr_line.get_ydata()) == pytest.approx([0.1, 0.05, 0.025]) and axes[2].get_yscale() == "log"
    fig.canvas.draw()
    for ax in axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert len(learning_curve_figure(history(3, lr=False)).get_axes()) == 2


@pytest.mark.parametrize("label", ["test", "validation"])
def test_held_out_curve_is_labelled_as_given(label):
    fig = learning_curve_figure(history(), val_label=label)
    for ax in fig.get_axes()[:2]:
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", label]


def test_cli_labels_the_test_set_test(tmp_path, monkeypatch):
    import layergraph.cli.run_files as train_cmd  # the module that draws the learning curve of a run
    from layergraph.cli import main
    seen = {}

    def spy(history, path, title="", val_label="validation"):
        seen["label"] = val_label
        return plot_history(history, path, title, val_label)

    monkeypatch.setattr(train_cmd, "plot_history", spy)
    assert main(["train", "--data", "xor", "--epochs", "2", "--out", str(tmp_path / "a"), "-q"]) == 0
    assert seen["label"] == "test" and (tmp_path / "a" / "learning_curve.png").is_file()
    assert main(["train", "--data", "xor", "--epochs", "2", "--val-split", "0.2", "--out", str(tmp_path / "b"),
                 "-q"]) == 0
    assert seen["label"] == "validation"
