"""helpers.viz draws headless with titles and labels; helpers.checks accepts right answers and hints at wrong ones."""

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from scipy import stats  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from helpers import (  # noqa: E402
    checks,
    checks_01,
    checks_02,
    checks_03,
    checks_04,
    checks_05,
    checks_06,
    checks_07,
    cost,
    data,
    models,
    transfer,
    viz,
)
from helpers.trials import ALL  # noqa: E402

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


def curve(train: list[float], val: list[float]) -> list[dict]:
    """History rows at steps 10, 20, ... with these training and held-out accuracies."""
    return [{"step": 10 * (i + 1), "train_acc": t, "val_acc": v} for i, (t, v) in enumerate(zip(train, val))]


def test_the_learning_curve_is_described_as_its_rows_say():
    # blue above orange for the first three points, as in notebook 01's classroom run; the second half adds a lot
    rows = curve(
        [0.05, 0.15, 0.28, 0.47, 0.57, 0.68, 0.74, 0.78, 0.80, 0.82], [0.04, 0.06, 0.19, 0.48, 0.61] + [0.84] * 5
    )
    text = viz.describe_learning_curve(rows, chance=0.03).data
    assert "above the orange held-out one at first (steps 10, 20 and 30); from step 40 on, orange" in text
    assert "61.0% at step 50, halfway, and to 84.0% at step 100" in text
    assert "first half added 58.0 points, the second half added 23.0." in text and "did more than polish" in text
    assert (
        "to 61.0% in the first half of the run and to 84.0% by its end"
        in viz.summarise_learning_curve(rows, chance=0.03).data
    )
    orange_above = viz.describe_learning_curve(curve([0.1, 0.5, 0.7, 0.8], [0.2, 0.75, 0.79, 0.8]), 0.1).data
    assert "orange held-out accuracy is at or above the blue training accuracy at every point" in orange_above
    assert "polished" in orange_above and "did more than polish" not in orange_above
    blue_above = viz.describe_learning_curve(curve([0.5, 0.7, 0.7, 0.8], [0.4, 0.6, 0.55, 0.55]), 0.1).data
    assert "above the orange held-out one at every point" in blue_above and "added nothing" in blue_above
    assert "the second half lost 5.0." in blue_above  # held-out 60% at halfway, 55% at the end
    mixed = viz.describe_learning_curve(curve([0.5, 0.4, 0.7, 0.8], [0.4, 0.5, 0.6, 0.9]), 0.1).data
    assert "at steps 10 and 30, not elsewhere" in mixed


# --- the comparison plots (notebooks 02-05) ------------------------------------------------


def summary_table() -> pd.DataFrame:
    """Three approaches at 1, 5 and all (0) labels per class, as helpers.results.summarise lays them out."""
    rows = []
    for approach, base in [("from scratch", 0.5), ("fine-tune", 0.7), ("logistic regression", 0.55)]:
        for n, images in [(1, 10), (5, 50), (0, 698)]:
            accuracy = min(base + images / 1000, 0.99)
            rows.append(
                {
                    "approach": approach,
                    "labels_per_class": n,
                    "train_images": images,
                    "seeds": 5,
                    "accuracy": accuracy,
                    "low": accuracy - 0.02,  # the 95% interval of the mean
                    "high": accuracy + 0.02,
                    "spread": 0.02,
                    "trainable_params": 10,
                    "train_flops": 1e9 * (1 + images),
                    "seconds": 1.0,
                    "uses_pretraining": approach == "fine-tune",
                }
            )
    return pd.DataFrame(rows)


SUMMARY = summary_table()


@pytest.fixture
def summary():
    return summary_table()


def test_data_efficiency_plot_has_one_line_and_band_per_approach(summary):
    fig = viz.plot_data_efficiency(summary)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3 and len(ax.collections) == 3  # lines and ±1 sd bands
    assert ax.get_xscale() == "log" and "%" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()][-1].startswith("all")
    assert len(ax.get_legend().get_texts()) == 3
    plt.close(fig)
    fig = viz.plot_data_efficiency(summary, labels={"logistic regression": "logistic regression on pixels"})
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "logistic regression on pixels (5 seeds)" in legend and "fine-tune (5 seeds)" in legend
    plt.close(fig)


def test_accuracy_vs_compute_adds_the_pretraining_share(summary):
    fig = viz.plot_accuracy_vs_compute(summary, 1, pretraining=1e12, amortise_over=10)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"fine-tune", "from scratch", "open: own training only", "filled: + pretraining / 10 tasks"} <= set(labels)
    x_positions = sorted(line.get_xdata()[0] for line in ax.get_lines() if len(line.get_xdata()) == 1)
    # Points are nudged sideways by a common factor per approach, so the pair (own, own + share) keeps its ratio.
    ratios = [b / a for a in x_positions for b in x_positions]
    assert (1.1e10 + 1e11) / 1.1e10 in [pytest.approx(r) for r in ratios]  # 11 GFLOPs + 1 TFLOP / 10
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


def test_show_examples_draws_every_image_once_without_empty_rows(image):
    ten = data.Dataset(image.repeat(10, 1, 1), torch.arange(9, -1, -1), tuple("0123456789"))  # one per class
    fig = viz.show_examples(ten, "one label per class")
    assert len(fig.axes) == 10 and all(ax.images for ax in fig.axes)  # one row of ten, none empty
    assert [ax.get_title() for ax in fig.axes] == [f"'{d}'" for d in "0123456789"]  # in class order
    _assert_readable(fig)
    twelve = data.Dataset(image.repeat(12, 1, 1), torch.arange(12) % 4, tuple("abcd"))
    fig = viz.show_examples(twelve, "three per class", columns=5)
    assert len(fig.axes) == 15 and sum(bool(ax.images) for ax in fig.axes) == 12  # only the last row is short
    _assert_readable(fig)


# --- the checks ------------------------------------------------------------------------------------
# Each check is tested against a reference (a hand count, PyTorch's own count, the summary table), and
# each wrong answer against the hint that names its mistake, so a check that accepts anything fails.


def _says(capsys, *texts):
    out = capsys.readouterr().out
    for text in texts:
        assert text in out, out


def test_parameter_count_check(capsys):
    assert checks_01.check_parameter_count(352) is True
    _says(capsys, "Correct: block1 holds 352 parameters")
    assert checks_01.check_parameter_count(288) is False
    _says(capsys, "288 is not the number of parameters in block1", "BatchNorm also learns")
    assert checks_01.check_parameter_count(352 + 32) is False
    _says(capsys, "no bias")
    assert checks_01.check_parameter_count(352 + 64) is False
    _says(capsys, "buffers")
    tiny = models.make_model(TINY)
    assert checks_01.check_parameter_count(4 * 1 * 3 * 3 + 4 + 4, tiny) is True  # counted by hand for width 4
    assert checks_01.check_parameter_count(352, tiny) is False


def test_output_side_check(capsys):
    assert checks_01.check_output_side(3) is True
    _says(capsys, "28 -> 14 -> 7 -> 3")
    assert checks_01.check_output_side(3.5) is False
    _says(capsys, "half a pixel")
    assert checks_01.check_output_side(4) is False
    _says(capsys, "rounds down")
    assert checks_01.check_output_side(7, depth=2) is True
    assert checks_01.check_output_side(3, depth=2) is False


def test_flops_check_against_pytorch_counter(capsys):
    conv = models.make_model().backbone.block1.conv
    with FlopCounterMode(display=False) as counter:
        conv(torch.zeros(1, 1, 28, 28))
    assert counter.get_total_flops() == 451_584
    assert checks_01.check_flops_block1(451_584) is True
    assert checks_01.check_flops_block1(225_792) is False
    _says(capsys, "multiply-adds")
    assert checks_01.check_flops_block1(451_584 // 4) is False
    _says(capsys, "before the pool")
    assert checks_01.check_flops_block1(451_000) is False  # a count is exact: no "close enough"
    _says(capsys, "count multiply-adds per output value")


def test_check_epochs(capsys):
    assert checks_02.check_epochs(400, steps=400, batch_size=32, num_images=10) is True
    assert checks_02.check_epochs(1280, steps=400, batch_size=32, num_images=10) is False
    _says(capsys, "cannot hold more images")
    assert checks_02.check_epochs(1, steps=400, batch_size=32, num_images=10) is False
    _says(capsys, "steps one epoch takes")
    assert checks_02.check_epochs(128, steps=400, batch_size=32, num_images=100) is True


def test_check_labels_to_reach(summary, capsys):
    assert checks_02.check_labels_to_reach(5, summary, "from scratch", 0.55) is True
    _says(capsys, "with 5 labels per class")
    assert checks_02.check_labels_to_reach(ALL, summary, "from scratch", 0.55) is False
    _says(capsys, "a smaller one does too")
    assert checks_02.check_labels_to_reach(1, summary, "from scratch", 0.55) is False
    _says(capsys, "still under")
    assert checks_02.check_labels_to_reach(20, summary, "from scratch", 0.55) is False
    _says(capsys, "the sweep has budgets ['1', '5', 'all']")
    assert checks_02.check_labels_to_reach(None, summary, "from scratch", 0.55) is False
    _says(capsys, "does reach")


def test_check_labels_to_reach_with_all_or_none(summary, capsys):
    assert checks_02.check_labels_to_reach(ALL, summary, "from scratch", 0.9) is True  # only the whole pool gets there
    _says(capsys, "with all labels per class")
    assert checks_02.check_labels_to_reach(None, summary, "from scratch", 0.995) is True  # nothing gets there
    _says(capsys, "never reaches")
    assert checks_02.check_labels_to_reach(ALL, summary, "from scratch", 0.995) is False
    _says(capsys, "answer None")


def test_check_head_parameters(capsys):
    assert checks.check_head_parameters(1290) is True
    assert checks.check_head_parameters(1280) is False
    _says(capsys, "bias")
    assert checks.check_head_parameters(94_000) is False
    _says(capsys, "frozen backbone's parameters do not train")
    head = torch.nn.Linear(64, 5)
    assert checks.check_head_parameters(sum(p.numel() for p in head.parameters()), feature_dim=64, num_classes=5)


def test_check_frozen_backward_flops_agrees_with_pytorch(capsys):
    frozen = transfer.freeze(models.make_model(models.STANDARD, seed=0))
    assert checks_03.check_frozen_backward_flops(cost.flops_per_step(frozen, 32)["backward"], batch_size=32) is True
    assert checks_03.check_frozen_backward_flops(81_920, batch_size=32) is True
    assert checks_03.check_frozen_backward_flops(82_240, batch_size=32) is True  # counting the bias gradient too
    _says(capsys, "bias gradient")
    assert checks_03.check_frozen_backward_flops(40_960, batch_size=32) is False
    _says(capsys, "multiply-add")
    assert checks_03.check_frozen_backward_flops(0, batch_size=32) is False
    _says(capsys, "the head itself trains")


def test_check_discriminative_lr_agrees_with_param_groups(capsys):
    groups = transfer.param_groups(models.make_model(models.STANDARD), head_lr=3e-3, decay=0.3)
    block1_lr = next(group["lr"] for group in groups if group["name"] == "block1")
    assert checks_04.check_discriminative_lr(block1_lr, 3e-3, 0.3, "block1") is True
    assert checks_04.check_discriminative_lr(3e-3 * 0.3**2, 3e-3, 0.3, "block1") is False
    _says(capsys, "count the steps down")
    assert checks_04.check_discriminative_lr(3e-3 * 0.3 * 3, 3e-3, 0.3, "block1") is False
    _says(capsys, "use a power")
    with pytest.raises(ValueError, match="block must be one of"):
        checks_04.check_discriminative_lr(1.0, 3e-3, 0.3, "block9")


def test_check_frozen_blocks_against_the_model(capsys):
    model = transfer.unfreeze(transfer.freeze(models.make_model(models.STANDARD, seed=0)), ["block3"])
    assert checks_04.check_frozen_blocks(["block2", "block1"], model) is True
    assert checks_04.check_frozen_blocks(("block1", "block2"), model) is True
    capsys.readouterr()
    assert checks_04.check_frozen_blocks(["block1"], model) is False
    out = capsys.readouterr().out
    assert "1 frozen block(s) are missing from your answer" in out
    assert "'block2'" not in out  # the hint never names the answer
    assert checks_04.check_frozen_blocks(["block1", "block2", "block3"], model) is False
    _says(capsys, "1 block(s) in your answer already train again")
    transfer.unfreeze(model)
    assert checks_04.check_frozen_blocks([], model) is True


def test_check_worst_seed_gain_and_amortised_flops(capsys):
    assert checks_05.check_worst_seed_gain(9.2, GAP_CHOSEN, 1) is True
    _says(capsys, "seed 0 gains least", "from +9.2 to +42.0 (mean +21.4)", "ahead in 3 of them")
    assert checks_05.check_worst_seed_gain(17.0, GAP_CHOSEN, 1) is False  # 65.0% (seed 1) - 48.0% (seed 2)
    _says(capsys, "from different seeds", "(unpaired)", "Subtract seed by seed first")
    assert checks_05.check_worst_seed_gain(21.4, GAP_CHOSEN, 1) is False
    _says(capsys, "the mean gain")
    assert checks_05.check_worst_seed_gain(42.0, GAP_CHOSEN, 1) is False
    _says(capsys, "the largest per-seed gain")
    assert checks_05.check_worst_seed_gain(0.092, GAP_CHOSEN, 1) is False
    _says(capsys, "percentage points")
    assert checks_05.check_worst_seed_gain(-9.2, GAP_CHOSEN, 1) is False
    _says(capsys, "the sign")
    assert checks_05.check_amortised_flops(5e10 + 1e12 / 10, 1e12, 5e10, 10) is True
    assert checks_05.check_amortised_flops(5e10 + 1e12, 1e12, 5e10, 10) is False
    _says(capsys, "shared by 10")
    assert checks_05.check_amortised_flops((5e10 + 1e12) / 10, 1e12, 5e10, 10) is False
    _says(capsys, "pays its own training in full")


# --- what every check shares: unanswered, the wrong type, one tolerance rule ------------------------

STANDARD_MODEL = models.make_model(models.STANDARD, seed=0)
DEV = pd.DataFrame(  # two settings with equal means over two seeds: the first in the grid wins
    {
        "approach": ["from scratch"] * 4,
        "labels_per_class": [1] * 4,
        "seed": [0, 1, 0, 1],
        "lr": [1e-3, 1e-3, 3e-3, 3e-3],
        "test_acc": [0.5, 0.6, 0.7, 0.4],
    }
)

GAP_CHOSEN = pd.DataFrame(  # per seed, LP-FT minus linear probe: 9.2, 13.0 and 42.0 points (mean 21.4)
    {
        "approach": ["LP-FT"] * 3 + ["linear probe"] * 3,
        "labels_per_class": [1] * 6,
        "seed": [0, 1, 2] * 2,
        "test_acc": [0.800, 0.650, 0.900, 0.708, 0.520, 0.480],  # worst LP-FT seed 1, worst probe seed 2
    }
)

EVERY_CHECK = {  # each check with its other arguments fixed
    "parameter_count": lambda answer: checks_01.check_parameter_count(answer),
    "output_side": lambda answer: checks_01.check_output_side(answer),
    "flops_block1": lambda answer: checks_01.check_flops_block1(answer),
    "epochs": lambda answer: checks_02.check_epochs(answer, steps=400, batch_size=32, num_images=10),
    "labels_to_reach": lambda answer: checks_02.check_labels_to_reach(answer, SUMMARY, "from scratch", 0.55),
    "head_parameters": lambda answer: checks.check_head_parameters(answer),
    "frozen_backward_flops": lambda answer: checks_03.check_frozen_backward_flops(answer, batch_size=32),
    "discriminative_lr": lambda answer: checks_04.check_discriminative_lr(answer, 1e-2, 0.5, "block1"),
    "frozen_blocks": lambda answer: checks_04.check_frozen_blocks(answer, STANDARD_MODEL),
    "worst_seed_gain": lambda answer: checks_05.check_worst_seed_gain(answer, GAP_CHOSEN, 1),
    "amortised_flops": lambda answer: checks_05.check_amortised_flops(answer, 1e12, 1e9, 10),
    "copy_blocks": lambda answer: checks_06.check_copy_blocks(answer),
    "accuracy_function": lambda answer: checks_01.check_accuracy_function(answer),
    "paired_interval": lambda answer: checks_05.check_paired_interval(answer),
    "block2_features": lambda answer: checks_03.check_block2_features(answer),
    "unfreeze_top": lambda answer: checks_04.check_unfreeze_top(answer),
    "choose_setting": lambda answer: checks_02.check_choose_setting(answer, DEV),
    "labels_to_reach_function": lambda answer: checks_02.check_labels_to_reach_function(answer, SUMMARY),
    "prediction": lambda answer: checks.check_prediction(answer, ["letters", "fashion", "none"]),
    "uniform_loss": lambda answer: checks_07.check_uniform_loss(answer),
    "lora_parameters": lambda answer: checks_07.check_lora_parameters(answer, 128, 384, 4),
    "next_character_loss": lambda answer: checks_07.check_next_character_loss(answer),
}


def test_every_check_is_listed():
    modules = [checks, checks_01, checks_02, checks_03, checks_04, checks_05, checks_06, checks_07]
    defined = {
        name
        for module in modules
        for name, value in vars(module).items()
        if name.startswith("check_") and getattr(value, "__module__", "") == module.__name__
    }
    assert {f"check_{name}" for name in EVERY_CHECK} == defined


@pytest.mark.parametrize("name", EVERY_CHECK)
def test_an_unanswered_exercise_says_to_replace_the_dots(name, capsys):
    assert EVERY_CHECK[name](...) is False
    _says(capsys, "Not yet:", "replace the `...` with your answer")


@pytest.mark.parametrize("name", EVERY_CHECK)
@pytest.mark.parametrize("answer", ["all", "352", True, [1, 2], torch.ones(2)], ids=repr)
def test_an_answer_of_the_wrong_type_says_what_type_is_expected(name, answer, capsys):
    if name == "frozen_blocks" and isinstance(answer, list):
        return  # a list is the right type there
    assert EVERY_CHECK[name](answer) is False
    _says(capsys, "Not yet:", f"is a {type(answer).__name__}", "Hint: the answer is ")


def test_the_expected_type_is_named(capsys):
    checks_02.check_labels_to_reach("all", SUMMARY, "from scratch", 0.9)
    _says(capsys, "'all' is a str", f"a whole number of labels per class ({ALL} for all of them), or None")
    checks_04.check_frozen_blocks("block1", STANDARD_MODEL)
    _says(capsys, "a list of block names")
    checks_02.check_epochs("9", steps=400, batch_size=32, num_images=10)
    _says(capsys, "the answer is a number")


def test_check_prediction_scores_only_the_pairs_the_seeds_resolve(capsys):
    measured = ["fine-tuning", "n-grams", "from scratch"]  # best first, by mean
    noise = dict.fromkeys(
        [("fine-tuning", "n-grams"), ("fine-tuning", "from scratch"), ("n-grams", "from scratch")], "unresolved"
    )
    assert checks.check_prediction(measured, measured, noise) is True
    out = capsys.readouterr().out
    assert "none of the 3 pairs is resolved" in out and "within noise" in out and "You placed" not in out
    assert checks.check_prediction(measured[::-1], measured, noise) is True  # nothing resolved, nothing reversed
    _says(capsys, "none of the 3 pairs is resolved")
    one = {**noise, ("n-grams", "from scratch"): "better"}
    assert checks.check_prediction(["n-grams", "from scratch", "fine-tuning"], measured, one) is True
    _says(
        capsys,
        "1 of the 3 pairs is resolved (n-grams ahead of from scratch)",
        "agrees with all of them",
        "The other 2 pairs are within noise",
    )
    assert checks.check_prediction(["from scratch", "fine-tuning", "n-grams"], measured, one) is False
    _says(capsys, "your order puts from scratch above n-grams")
    flipped = {**noise, ("fine-tuning", "from scratch"): "worse"}  # measured below on the mean, ahead seed by seed
    assert checks.check_prediction(measured, measured, flipped) is False
    _says(capsys, "from scratch ahead of fine-tuning", "your order puts fine-tuning above from scratch")
    assert checks.check_prediction(measured, measured) is True  # without verdicts, every place counts
    _says(capsys, "You placed 3 of 3 where they landed")


def test_numbers_from_numpy_and_torch_are_numbers():
    assert checks_01.check_parameter_count(np.int64(352)) is True
    assert checks_01.check_parameter_count(torch.tensor(352)) is True
    assert checks_02.check_epochs(np.float32(400.0), steps=400, batch_size=32, num_images=10) is True


COMPUTED = {  # every check of a computed quantity, each with an expected value of 9.2 or 1.25e-3
    "epochs": (9.2, lambda answer: checks_02.check_epochs(answer, steps=46, batch_size=20, num_images=100)),
    "worst_seed_gain": (9.2, lambda answer: checks_05.check_worst_seed_gain(answer, GAP_CHOSEN, 1)),
    "amortised_flops": (9.2, lambda answer: checks_05.check_amortised_flops(answer, 42.0, 5.0, 10)),
    "discriminative_lr": (1.25e-3, lambda answer: checks_04.check_discriminative_lr(answer, 1e-2, 0.5, "block1")),
}


@pytest.mark.parametrize("name", COMPUTED)
def test_one_tolerance_rule_for_computed_quantities(name, capsys):
    expected, check = COMPUTED[name]
    assert check(expected * 1.009) is True  # within 1%: three significant figures are enough
    assert check(expected * 0.991) is True
    assert check(expected * 1.03) is False  # 9 for 9.2, 0.0013 for 0.00125: rounded too early
    _says(capsys, "close, but not within 1%")
    assert check(expected * 0.95) is False
    _says(capsys, "close, but not within 1%")
    assert check(expected * 2.5) is False
    out = capsys.readouterr().out
    assert "Hint" in out and "close" not in out


def test_the_rounded_answers_of_the_brief(capsys):
    assert checks_04.check_discriminative_lr(0.0013, 1e-2, 0.5, "block1") is False
    _says(capsys, "0.0013 is not block1's learning rate", "close, but not within 1%")
    assert checks_05.check_worst_seed_gain(9, GAP_CHOSEN, 1) is False
    _says(capsys, "9 is not the smallest per-seed gain", "close, but not within 1%")
    assert checks_05.check_worst_seed_gain(9.2, GAP_CHOSEN, 1) is True
    assert checks_05.check_worst_seed_gain(9.17, GAP_CHOSEN, 1) is True


def test_counts_are_exact_and_never_close(capsys):
    assert checks_01.check_parameter_count(353) is False
    assert checks_03.check_frozen_backward_flops(81_921, batch_size=32) is False
    assert "close" not in capsys.readouterr().out


def test_check_accuracy_function_catches_a_count_and_training_mode(capsys):
    def score(model, dataset, train_mode=False, count=False):
        model.train(train_mode)
        with torch.no_grad():
            right = (model(data.to_float(dataset.images)).argmax(1) == dataset.labels).float()
        return right.sum().item() if count else right.mean().item()

    assert checks_01.check_accuracy_function(score) is True
    assert checks_01.check_accuracy_function(lambda m, d: score(m, d, count=True)) is False
    _says(capsys, "is a count")
    assert checks_01.check_accuracy_function(lambda m, d: score(m, d, train_mode=True)) is False
    _says(capsys, "model.eval()")
    assert checks_01.check_accuracy_function(lambda m, d: 1 / 0) is False
    _says(capsys, "raised ZeroDivisionError")


def test_check_paired_interval_names_the_usual_slips(capsys):
    def interval(a, b, quantile=None, ddof=1, paired=True):
        d = np.asarray(a) - np.asarray(b)
        q = quantile or stats.t.ppf(0.975, len(d) - 1)
        if not paired:
            half = stats.t.ppf(0.975, 2 * len(a) - 2) * np.sqrt(np.var(a, ddof=1) / len(a) + np.var(b, ddof=1) / len(b))
            return d.mean(), d.mean() - half, d.mean() + half
        half = q * d.std(ddof=ddof) / np.sqrt(len(d))
        return d.mean(), d.mean() - half, d.mean() + half

    assert checks_05.check_paired_interval(interval) is True
    for slip, says in [
        (lambda a, b: interval(a, b, quantile=1.96), "1.96 is for many seeds"),
        (lambda a, b: interval(a, b, ddof=0), "divides by n - 1"),
        (lambda a, b: interval(a, b, paired=False), "unpaired"),
        (lambda a, b: interval(b, a), "subtract b from a"),
    ]:
        assert checks_05.check_paired_interval(slip) is False
        _says(capsys, says)


def test_check_block2_features_and_unfreeze_top_against_the_helpers(capsys):
    def block2(model, images, mode="eval", stop=2, pool=True):
        getattr(model, mode)()
        x = data.to_float(images)
        with torch.no_grad():
            for name in model.block_names()[:stop]:
                x = model.backbone.get_submodule(name)(x)
        return x.mean(dim=(2, 3)) if pool else x

    assert checks_03.check_block2_features(block2) is True
    for slip, says in [
        (lambda m, x: block2(m, x, pool=False), "still maps"),
        (lambda m, x: block2(m, x, stop=3), "stop after block2"),
        (lambda m, x: block2(m, x, stop=3, pool=False), "stop after block2"),
        (lambda m, x: block2(m, x, stop=1), "Run block2 on it too"),
        (lambda m, x: block2(m, x, mode="train"), "training-mode"),
        # stopped after block2, as asked, but did not average each map to one number:
        (lambda m, x: block2(m, x, pool=False).flatten(1), "flattens block2's maps"),
        (lambda m, x: block2(m, x, pool=False).mean(dim=2), "mean over dims 2 and 3"),
        (lambda m, x: block2(m, x, pool=False).mean(dim=1), "averages over the channels"),
        (lambda m, x: torch.nn.functional.adaptive_avg_pool2d(block2(m, x, pool=False), 1), ".flatten(1)"),
    ]:
        assert checks_03.check_block2_features(slip) is False
        out = capsys.readouterr().out
        assert says in out, out
        assert "stop after block2" not in out or says == "stop after block2", out  # only when it ran on

    def top(model, k):
        names = model.block_names()
        return transfer.unfreeze(transfer.freeze(model), names[len(names) - k :])

    def bottom(model, k):
        return transfer.unfreeze(transfer.freeze(model), model.block_names()[:k])

    assert checks_04.check_unfreeze_top(top) is True
    assert checks_04.check_unfreeze_top(bottom) is False
    _says(capsys, "open from the top")
    assert checks_04.check_unfreeze_top(lambda m, k: transfer.unfreeze(m, m.block_names()[3 - k :])) is False
    _says(capsys, "freeze every block first")


def test_check_choose_setting_wants_the_best_mean_and_the_first_of_equals(capsys):
    assert checks_02.check_choose_setting(lambda rows, knob: rows.groupby(knob).test_acc.mean().idxmax(), DEV) is True
    assert checks_02.check_choose_setting(lambda rows, knob: rows.loc[rows.test_acc.idxmax(), knob], DEV) is False
    _says(capsys, "best single run")
    assert checks_02.check_choose_setting(lambda rows, knob: 3e-3, DEV) is False
    _says(capsys, "0.003, not 0.001")


def test_check_labels_to_reach_function_against_the_reference(capsys):
    assert checks_02.check_labels_to_reach_function(checks_02.labels_to_reach, SUMMARY) is True
    never_none = lambda summary, approach, target: checks_02.labels_to_reach(summary, approach, target) or ALL  # noqa: E731
    assert checks_02.check_labels_to_reach_function(never_none, SUMMARY) is False
    _says(capsys, "return None")


# --- notebook 07 ----------------------------------------------------------------------------------


def test_check_uniform_loss_names_bits_probability_and_perplexity(capsys):
    assert checks_07.check_uniform_loss(math.log(96)) is True
    assert checks_07.check_uniform_loss(4.56) is True  # three significant figures are enough
    for wrong, hint in ((math.log2(96), "bits"), (1 / 96, "probability"), (96, "perplexity"), (3.0, "-ln p")):
        assert checks_07.check_uniform_loss(wrong) is False
        _says(capsys, "Not yet:", hint)


def test_check_lora_parameters_counts_a_and_b_only(capsys):
    assert checks_07.check_lora_parameters(4 * (128 + 384), 128, 384, 4) is True
    for wrong, hint in (
        (128 * 384, "frozen weight"),
        (4 * 128, "A alone"),
        (4 * 384, "B alone"),
        (4 * 128 * 384, "thin"),
    ):
        assert checks_07.check_lora_parameters(wrong, 128, 384, 4) is False
        _says(capsys, "Not yet:", hint)


def test_check_next_character_loss_against_the_reference_and_three_mistakes(capsys):
    def right(model, windows):
        logits = model(windows[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1))

    def unshifted(model, windows):
        logits = model(windows[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, :-1].reshape(-1))

    def summed(model, windows):
        logits = model(windows[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), windows[:, 1:].reshape(-1), reduction="sum")

    assert checks_07.check_next_character_loss(right) is True
    for wrong, hint in (
        (unshifted, "windows[:, 1:]"),
        (summed, "the mean"),
        (lambda m, w: right(m, w).item(), "tensor"),
    ):
        assert checks_07.check_next_character_loss(wrong) is False
        _says(capsys, "Not yet:", hint)
    assert checks_07.check_next_character_loss(lambda m, w: 1 / 0) is False
    _says(capsys, "ZeroDivisionError")
