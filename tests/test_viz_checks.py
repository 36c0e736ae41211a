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
