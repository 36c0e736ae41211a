"""helpers.viz draws headless with titles and labels; helpers.checks accepts right answers and hints at wrong ones."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from helpers import checks, models, viz  # noqa: E402

TINY = models.CNNConfig(num_classes=4, width=4, depth=2)
ROWS = [
    {"step": 5, "train_loss": 1.3, "train_acc": 0.40, "seconds": 0.1},
    {"step": 10, "train_loss": 0.9, "train_acc": 0.70, "val_acc": 0.65, "val_loss": 1.0, "seconds": 0.2},
]


@pytest.fixture
def tiny_model():
    return models.make_model(TINY, seed=0)


@pytest.fixture
def image():
    return (torch.rand(28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)


def _assert_readable(fig):
    assert fig._suptitle is not None and fig._suptitle.get_text(), "every figure needs a title"
    for ax in fig.axes:
        if ax.lines:  # a curve: titled, with both axes labelled
            assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    plt.close(fig)


def test_plot_history_has_titles_and_labels():
    fig = viz.plot_history(ROWS)
    loss, acc = fig.axes[:2]
    assert loss.get_title() and loss.get_xlabel() == "optimiser step" and "nats" in loss.get_ylabel()
    assert acc.get_title() and "%" in acc.get_ylabel()
    assert len(acc.get_lines()) == 2  # train and validation
    _assert_readable(fig)


def test_show_filters_grid(tiny_model):
    fig = viz.show_filters(tiny_model)
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == TINY.width
    assert fig._supxlabel.get_text() and fig._supylabel.get_text()
    _assert_readable(fig)


@pytest.mark.parametrize("block, side", [("block1", 14), ("block2", 7)])
def test_feature_maps_shape_and_figure(tiny_model, image, block, side):
    maps = viz.feature_maps(tiny_model, image, block)
    channels = TINY.block_channels()[int(block[-1]) - 1]
    assert maps.shape == (channels, side, side)
    fig = viz.show_feature_maps(tiny_model, image, block)
    assert block in fig._suptitle.get_text()
    assert sum(1 for ax in fig.axes if ax.images) == channels + 1  # the input and every map
    _assert_readable(fig)


def test_feature_maps_match_a_forward_hook(tiny_model, image):
    captured = {}
    hook = tiny_model.backbone.block2.register_forward_hook(lambda m, i, out: captured.setdefault("out", out))
    tiny_model.eval()
    with torch.no_grad():
        tiny_model(image[None, None].float() / 255)
    hook.remove()
    torch.testing.assert_close(viz.feature_maps(tiny_model, image, "block2"), captured["out"][0])


def test_feature_maps_rejects_unknown_block(tiny_model, image):
    with pytest.raises(ValueError, match="block1"):
        viz.feature_maps(tiny_model, image, "block9")


def test_live_history_plot_keeps_rows():
    live = viz.LiveHistoryPlot(total_steps=10)
    for row in ROWS:
        live(row)
    assert live.rows == ROWS and live.handle is not None


def test_parameter_count_check(capsys):
    assert checks.check_parameter_count(352) is True
    assert "Correct" in capsys.readouterr().out
    assert checks.check_parameter_count(288) is False
    assert "Hint" in capsys.readouterr().out
    tiny = models.make_model(TINY)
    expected = sum(p.numel() for p in tiny.backbone.block1.parameters())  # the reference count
    assert checks.check_parameter_count(expected, tiny) is True


def test_output_side_check(capsys):
    assert checks.check_output_side(3) is True
    assert checks.check_output_side(3.5) is False
    assert "Hint" in capsys.readouterr().out
    assert checks.check_output_side(7, depth=2) is True


def test_flops_check_against_pytorch_counter(capsys):
    conv = models.make_model().backbone.block1.conv
    with FlopCounterMode(display=False) as counter:
        conv(torch.zeros(1, 1, 28, 28))
    assert checks.check_flops_block1(counter.get_total_flops()) is True
    assert checks.check_flops_block1(451_584) is True
    assert checks.check_flops_block1(225_792) is False  # multiply-adds, not FLOPs
    assert "Hint" in capsys.readouterr().out


def test_checks_never_raise(capsys):
    for check in (checks.check_parameter_count, checks.check_output_side, checks.check_flops_block1):
        assert check(...) is False
        assert "Hint" in capsys.readouterr().out


# --- the comparison plots (notebooks 02-05) ------------------------------------------------


@pytest.fixture
def summary():
    import pandas as pd

    rows = []
    for approach, base in [("from scratch", 0.5), ("fine-tune", 0.7), ("logistic regression", 0.55)]:
        for n, images in [(1, 10), (5, 50), (0, 698)]:
            rows.append({"approach": approach, "labels_per_class": n, "train_images": images, "seeds": 5,
                         "accuracy": min(base + images / 1000, 0.99), "spread": 0.02, "trainable_params": 10,
                         "train_flops": 1e9 * (1 + images), "seconds": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_data_efficiency_plot_has_one_line_and_band_per_approach(summary):
    fig = viz.plot_data_efficiency(summary)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3 and len(ax.collections) == 3  # lines and ±1 sd bands
    assert ax.get_xscale() == "log" and "%" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()][-1].startswith("all")
    assert len(ax.get_legend().get_texts()) == 3
    plt.close(fig)


def test_accuracy_vs_compute_adds_the_pretraining_share(summary):
    fig = viz.plot_accuracy_vs_compute(summary, 1, pretraining=1e12, amortise_over=10)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "fine-tune (+ pretraining / 10)" in labels and "from scratch" in labels
    x_positions = sorted(line.get_xdata()[0] for line in ax.get_lines() if len(line.get_xdata()) == 1)
    assert 1.1e10 + 1e11 in [pytest.approx(x) for x in x_positions]  # 11 GFLOPs + 1 TFLOP / 10
    plt.close(fig)
    fig = viz.plot_accuracy_vs_compute(summary, 1, pretraining=30.0, measure="seconds")
    assert "seconds" in fig.axes[0].get_xlabel()
    plt.close(fig)
    with pytest.raises(ValueError, match="measure must be one of"):
        viz.plot_accuracy_vs_compute(summary, 1, 1.0, measure="joules")


def test_label_budget_bars_and_curves(summary):
    fig = viz.plot_label_budget(summary, 5)
    assert len(fig.axes[0].patches) == 3 and "%" in fig.axes[0].get_xlabel()
    plt.close(fig)
    curves = {"fine-tune": ROWS, "from scratch": ROWS}
    fig = viz.plot_curves(curves, target=0.6)
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    _assert_readable(fig)


def test_embeddings_grid_and_neighbours(image):
    labels = torch.tensor([0, 1, 2, 1])
    fig = viz.plot_embeddings({"a": torch.randn(4, 2), "b": torch.randn(4, 2)}, labels, "012", "two views")
    assert len(fig.axes) == 2 and all(ax.get_title() for ax in fig.axes)
    _assert_readable(fig)
    fig = viz.show_neighbours(image, {"pixels": ([image, image], ["1", "2"], [0.9, 0.8])})
    assert len(fig.axes) == 3
    _assert_readable(fig)


# --- the checks of notebooks 02-05 ---------------------------------------------------------------


def _says(capsys, text):
    out = capsys.readouterr().out
    assert text in out, out


def test_check_epochs(capsys):
    assert checks.check_epochs(400, steps=400, batch_size=32, num_images=10)
    assert not checks.check_epochs(1280, steps=400, batch_size=32, num_images=10)
    _says(capsys, "cannot hold more images")
    assert checks.check_epochs(128, steps=400, batch_size=32, num_images=100)


def test_check_labels_to_reach(summary, capsys):
    assert checks.check_labels_to_reach(5, summary, "from scratch", 0.55)
    assert not checks.check_labels_to_reach(0, summary, "from scratch", 0.55)
    _says(capsys, "a smaller one does too")
    assert not checks.check_labels_to_reach(1, summary, "from scratch", 0.55)
    _says(capsys, "still under")


def test_check_head_and_frozen_backward_flops(capsys):
    assert checks.check_head_parameters(1290)
    assert not checks.check_head_parameters(1280)
    _says(capsys, "bias")
    assert checks.check_frozen_backward_flops(81920, batch_size=32)
    assert not checks.check_frozen_backward_flops(40960, batch_size=32)
    _says(capsys, "multiply-add")


def test_check_frozen_backward_flops_agrees_with_pytorch():
    from helpers import transfer

    frozen = transfer.freeze(models.make_model(models.STANDARD, seed=0))
    assert checks.check_frozen_backward_flops(cost_backward(frozen), batch_size=32)


def cost_backward(model):
    from helpers import cost

    return cost.flops_per_step(model, 32)["backward"]


def test_check_discriminative_lr_and_frozen_blocks(capsys):
    from helpers import transfer

    assert checks.check_discriminative_lr(3e-3 * 0.3**3, 3e-3, 0.3, "block1")
    assert not checks.check_discriminative_lr(3e-3 * 0.3**2, 3e-3, 0.3, "block1")
    _says(capsys, "count the steps down")
    model = transfer.unfreeze(transfer.freeze(models.make_model(models.STANDARD, seed=0)), ["block3"])
    assert checks.check_frozen_blocks(["block2", "block1"], model)
    assert not checks.check_frozen_blocks(["block1"], model)
    _says(capsys, "missing from your answer: ['block2']")
    assert not checks.check_frozen_blocks(..., model)


def test_check_gap_and_amortised_flops(summary, capsys):
    assert checks.check_gap(20.0, summary, 1)
    assert not checks.check_gap(0.2, summary, 1)
    _says(capsys, "percentage points")
    assert checks.check_amortised_flops(1e9 + 1e12 / 10, 1e12, 1e9, 10)
    assert not checks.check_amortised_flops(1e9 + 1e12, 1e12, 1e9, 10)
    _says(capsys, "shared by 10")
