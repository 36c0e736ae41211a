"""Notebook 06's studies (helpers.what_transfers): the letter halves, copying blocks, the sources, the
shipped results, and reruns that reproduce them."""

import dataclasses

import pandas as pd
import pytest
import torch

from helpers import characters, checkpoint, checks_06, data, experiment, models, results, train, trials, viz
from helpers import what_transfers as wt
from helpers.core import DataError, Dataset
from helpers.trials import ExperimentError, Trial

# --- the layer study ---------------------------------------------------------------------------------


def test_the_letter_halves_split_every_letter_once():
    a, b = wt.letter_halves()
    assert (len(a), len(b)) == (18, 19)
    assert not set(a) & set(b) and set(a) | set(b) == set(characters.LETTERS)


def test_a_half_keeps_only_its_letters_relabelled():
    task = wt.half_task("B", "test")
    assert task.classes == wt.letter_halves()[1]
    assert task.counts() == dict.fromkeys(task.classes, wt.LAYER_TEST_PER_CLASS)


def _pair():
    source = models.make_model(models.CNNConfig(num_classes=18), seed=1)
    for module in source.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
    return source, models.make_model(models.CNNConfig(num_classes=19), seed=2)


@pytest.mark.parametrize("blocks", [1, 2, 3])
@pytest.mark.parametrize("freeze", [True, False])
def test_copy_blocks_copies_the_first_blocks_whole_and_nothing_else(blocks, freeze):
    source, target = _pair()
    fresh = {k: v.clone() for k, v in target.state_dict().items()}
    wt.copy_blocks(source, target, blocks, freeze)
    copied = source.block_names()[:blocks]
    for key, value in target.state_dict().items():
        block = key.split(".")[1] if key.startswith("backbone.") else "head"
        reference = source.state_dict()[key] if block in copied else fresh[key]
        assert torch.equal(value, reference), key
    for name in target.block_names():
        frozen = freeze and name in copied
        assert all(p.requires_grad != frozen for p in target.backbone.get_submodule(name).parameters())
    assert checks_06.check_copy_blocks(wt.copy_blocks) is True


def test_frozen_copied_blocks_do_not_change_while_the_rest_trains():
    source, target = _pair()
    wt.copy_blocks(source, target, 2, freeze=True)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    images = torch.randint(0, 255, (32, 28, 28), dtype=torch.uint8)
    labels = torch.arange(32) % 19
    train.fit(target, Dataset(images, labels, wt.letter_halves()[1]), train.TrainConfig(steps=5, batch_size=16))
    after = target.state_dict()
    for key in before:
        unchanged = torch.equal(before[key], after[key])
        if key.startswith(("backbone.block1.", "backbone.block2.")):
            assert unchanged, f"{key} is frozen (weights and BatchNorm statistics) but changed"
        elif key.endswith(".weight"):
            assert not unchanged, f"{key} should train"


def test_the_copy_check_catches_the_usual_mistakes(capsys):
    def parameters_only(source, target, blocks, freeze):
        for name in source.block_names()[:blocks]:
            for mine, theirs in zip(
                target.backbone.get_submodule(name).parameters(), source.backbone.get_submodule(name).parameters()
            ):
                mine.data.copy_(theirs.data)
                mine.requires_grad_(not freeze)
        return target

    def shared(source, target, blocks, freeze):
        for name in source.block_names()[:blocks]:
            setattr(target.backbone, name, source.backbone.get_submodule(name))
        return target

    def never_frozen(source, target, blocks, freeze):
        return wt.copy_blocks(source, target, blocks, freeze=False)

    def one_too_many(source, target, blocks, freeze):
        return wt.copy_blocks(source, target, min(blocks + 1, 3), freeze)

    for wrong, says in [
        (parameters_only, "running_mean was not copied"),
        (shared, "shares tensors with the source"),
        (never_frozen, "should be frozen"),
        (one_too_many, "is not among the first"),
    ]:
        assert checks_06.check_copy_blocks(wrong) is False
        assert says in capsys.readouterr().out


def test_layer_trials_are_named_as_in_the_paper_and_refuse_nonsense():
    assert [t.name for t in wt.layer_plan((0,))[:6]] == ["baseA", "baseB", "AnB", "AnB", "AnB", "AnB+"]
    assert wt.LayerTrial(0, "B", 2, True).name == "BnB+"
    with pytest.raises(ExperimentError):
        wt.LayerTrial(0, "A", 0)  # a copy of no block
    with pytest.raises(ExperimentError):
        wt.LayerTrial(0, "", 2)  # a base model copies nothing
    with pytest.raises(ExperimentError):
        wt.LayerTrial(0, "C", 1)
    assert len({t.key() for t in wt.layer_plan()}) == len(wt.layer_plan())


def test_layer_trials_are_keyed_by_the_shipped_letters(monkeypatch):
    trial = wt.LayerTrial(0, "A", 2)
    before = trial.key()
    files = dict(data.LETTER_FILES)
    files[("train", "images")] = (files[("train", "images")][0], "another rendering")
    monkeypatch.setattr(data, "LETTER_FILES", files)
    assert trial.key() != before


# --- the sources -------------------------------------------------------------------------------------


def test_shuffled_labels_keep_the_images_and_the_class_counts_but_not_the_pairs():
    letters = data.source_task("train")
    shuffled = data.source_task("train", "shuffled letters")
    assert torch.equal(shuffled.images, letters.images)
    assert torch.equal(shuffled.labels.bincount(), letters.labels.bincount())
    assert (shuffled.labels == letters.labels).float().mean() < 0.1  # chance: 1 in 37


def test_an_unknown_source_names_the_known_ones():
    with pytest.raises(DataError, match="choose one of"):
        data.source_task("train", "cats")
    with pytest.raises(checkpoint.CheckpointError, match="choose one of"):
        checkpoint.source_checkpoint("cats")


@pytest.mark.parametrize("name", list(checkpoint.SOURCE_CHECKPOINTS))
def test_each_shipped_source_was_trained_on_its_data_with_the_letter_recipe(name):
    _, meta = checkpoint.load_checkpoint(checkpoint.source_checkpoint(name))
    assert meta["data_checksum"] == checkpoint.dataset_checksum(data.source_task("train", name))
    assert checkpoint.same_recipe(meta["recipe"])
    assert meta["classes"] == list(data.source_task("train", name).classes)


def test_a_source_trial_is_keyed_by_its_source():
    trial = Trial("fine-tune", 1, 0, lr=3e-3)
    keys = {wt.SourceTrial(trial, name).key() for name in checkpoint.SOURCE_CHECKPOINTS}
    assert len(keys) == len(checkpoint.SOURCE_CHECKPOINTS)


def test_a_source_trial_does_not_depend_on_the_letter_model_unless_it_starts_from_it(monkeypatch):
    """Retraining the letter model leaves Fashion-MNIST's and clothes' results valid."""
    trial = Trial("fine-tune", 1, 0, lr=3e-3)
    before = {name: wt.SourceTrial(trial, name).key() for name in checkpoint.SOURCE_CHECKPOINTS}
    real_sha = trials.checkpoint_sha
    letters = checkpoint.source_checkpoint("letters")
    monkeypatch.setattr(trials, "checkpoint_sha", lambda path: "retrained" if path == letters else real_sha(path))
    after = {name: wt.SourceTrial(trial, name).key() for name in checkpoint.SOURCE_CHECKPOINTS}
    assert [name for name in before if before[name] != after[name]] == ["letters"]


def test_a_probe_reads_the_features_of_the_source_it_is_given():
    trial = Trial("linear probe", 2, 0, C=1.0)
    letters = trials.run_trial(trial)  # the shipped letter model, as in 02-05
    assert letters["test_acc"] == pytest.approx(results.load_cache()[trial.key()]["test_acc"], abs=0.02)
    shuffled = trials.run_trial(trial, checkpoint.source_checkpoint("shuffled letters"))
    assert shuffled["test_acc"] != letters["test_acc"]
    assert shuffled["trainable_params"] == letters["trainable_params"] == 128 * 10 + 10


def test_shoes_and_bags_is_a_four_class_task_scored_on_a_fixed_test_set():
    pool, val, test = trials.task_splits("shoes and bags")
    assert pool.classes == test.classes == data.SHOES_AND_BAGS and val is None
    assert test.counts() == dict.fromkeys(data.SHOES_AND_BAGS, trials.SHOES_TEST_PER_CLASS)
    subset = trials.training_subset(5, seed=0, task="shoes and bags")
    assert len(subset) == 20


# --- the shipped results -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def studies():
    return wt.load()


def test_the_shipped_cache_is_the_plan_run_with_the_chosen_recipes(studies):
    planned = {trial.key() for plan in wt.plans(studies.recipes).values() for trial in plan}
    cached = set(experiment.load_cache(wt.RESULTS_PATH))  # the file as shipped: no stale row, none missing
    assert cached == planned, f"{len(cached - planned)} stale rows, {len(planned - cached)} missing"
    runs = pd.concat([studies.sources, studies.negative])
    chosen = [
        (row, studies.recipes[row.approach, row.labels_per_class])
        for row in runs.itertuples()
        if (row.approach, row.labels_per_class) in studies.recipes
    ]
    assert len(chosen) >= len(studies.sources)  # every source trial runs at a budget 02-05 chose a recipe for
    for row, setting in chosen:  # each ran the setting chosen on the development pairing, as 02-05's digits did
        assert getattr(row, trials.knob(row.approach)) == setting, row
    summary = wt.layer_summary(studies.layers)
    assert set(summary.curve) == {"baseA", "baseB", "AnB", "AnB+", "BnB", "BnB+"}
    assert set(summary.seeds) == {len(wt.LAYER_SEEDS)}


def test_forgetting_runs_reproduce_the_sweeps_fine_tuning_exactly(studies):
    """Two code paths, one training: the forgetting study's plain fine-tuning is 02-05's fine-tune trial."""
    chosen = results.budget_true(results.load_results())
    plain = studies.forgetting[studies.forgetting.strategy == "fine-tune"]
    for _, row in plain.iterrows():
        match = chosen[
            (chosen.approach == "fine-tune")
            & (chosen.labels_per_class == row.labels_per_class)
            & (chosen.seed == row.seed)
        ]
        assert row.digits_acc == pytest.approx(match.test_acc.iloc[0], abs=1e-9)
    tenth = studies.forgetting[studies.forgetting.strategy == "lr / 10"].set_index(["labels_per_class", "seed"]).lr
    assert (plain.set_index(["labels_per_class", "seed"]).lr / 10 == tenth).all()


def test_paired_tables_and_summaries_cover_every_budget(studies):
    frame = wt.source_frame(studies)
    table = wt.paired_against(frame, "from scratch", wt.SOURCE_LABELS)
    assert len(table) == len(wt.SOURCE_LABELS) * 6  # 3 sources x 2 approaches
    assert list(table.columns) == [*results.PAIRED_COLUMNS, "task"]
    assert numeric_except_names(table, {"approach", "baseline", "verdict", "task"})
    assert table[table.labels_per_class == 1].seeds.eq(len(trials.seeds_for(1))).all()
    assert ((table.low <= table["mean"]) & (table["mean"] <= table.high)).all()
    ranking, verdicts = wt.ranking(studies, 1)
    assert sorted(ranking) == ["fashion", "letters", "none", "shuffled letters"]
    assert list(verdicts) == [(a, b) for i, a in enumerate(ranking) for b in ranking[i + 1 :]]  # best first
    assert set(verdicts.values()) <= {"better", "worse", "unresolved"}
    assert verdicts["letters", "none"] == "better"  # the shipped sweep: letters fine-tuned beat from scratch at 1
    table, before = wt.forgetting_table(studies)
    assert len(table) == len(wt.STRATEGIES) * len(wt.FORGETTING_LABELS) and 0.9 < before <= 1
    assert numeric_except_names(table, {"strategy"})
    paired = wt.forgetting_paired(studies)
    assert len(paired) == 2 * (len(wt.STRATEGIES) - 1) * len(wt.FORGETTING_LABELS)
    assert numeric_except_names(paired, {"approach", "baseline", "verdict", "measure"})
    assert set(paired.verdict) <= {"better", "worse", "unresolved"}


def numeric_except_names(table, names: set[str]) -> bool:
    """Every column numeric except the named ones (text: names and verdicts, never a formatted number)."""
    text = {c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])}
    return text == names and pd.api.types.is_integer_dtype(table.labels_per_class)


def test_below_zero_keeps_only_intervals_entirely_below_zero():
    rows = [{"high": h, "verdict": "worse" if h < 0 else "unresolved"} for h in (-0.01, 0.0, 0.02)]
    import pandas as pd

    assert list(wt.below_zero(pd.DataFrame(rows)).index) == [0]


def test_the_plots_of_notebook_06(studies):
    figures = [
        viz.plot_layer_transfer(wt.layer_summary(studies.layers)),
        viz.plot_sources(wt.source_summary(studies)),
        viz.plot_forgetting(studies.forgetting, 0.95),
    ]
    for fig in figures:
        for ax in fig.axes:
            assert ax.get_xlabel()
        assert fig.axes[0].get_ylabel() and fig.axes[0].get_title()


# --- reruns -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_fresh_run_of_each_kind_reproduces_the_shipped_rows(studies, tmp_path, monkeypatch):
    """Bit-identical on the machine that built the cache; another CPU may round differently (a few images)."""
    monkeypatch.setattr(wt, "CACHE_DIR", tmp_path)  # the base model is trained again, not read back
    cached = results.load_cache(wt.RESULTS_PATH)
    recipes = results.dev_recipes(results.load_results()["dev"])
    plans = wt.plans(recipes)
    picks = [
        wt.LayerTrial(0, "A", 3, False),
        next(t for t in plans["sources"] if t.trial.approach == "fine-tune" and t.source == "fashion"),
        plans["forgetting"][len(wt.FORGETTING_SEEDS)],  # LP-FT, 10 labels per class, seed 0
    ]
    for trial in picks:
        fresh, shipped = wt.run(trial), cached[trial.key()]
        measure = "digits_acc" if "digits_acc" in shipped else "test_acc"
        assert fresh[measure] == pytest.approx(shipped[measure], abs=0.02)
        if "letters_acc" in shipped:
            assert fresh["letters_acc"] == pytest.approx(shipped["letters_acc"], abs=0.02)


def test_a_dataclass_replace_keeps_trials_hashable():
    trial = wt.ForgettingTrial("fine-tune", 10, 0, 1e-2)
    assert dataclasses.replace(trial, seed=1).key() != trial.key()


def test_the_06_sweep_trains_base_models_first_and_drops_stale_rows(tmp_path, monkeypatch):
    from tools import sweep

    ran = []
    monkeypatch.setattr(wt, "run", lambda trial: ran.append(trial) or {"study": "stand-in"})
    path = tmp_path / "what_transfers.json"
    sweep.save_cache({"stale": {"study": "an old plan's row"}}, path)
    sweep.fill_what_transfers(path, workers=1)
    bases = [t for t in ran if isinstance(t, wt.LayerTrial) and not t.copied_from]
    assert len(bases) == 2 * len(wt.LAYER_SEEDS) and ran[: len(bases)] == bases  # the copies need them
    cached = results.load_cache(path)
    assert "stale" not in cached and len(cached) == len(ran) == len(set(ran))
    ran.clear()
    sweep.fill_what_transfers(path, workers=1)
    assert ran == []  # everything cached: nothing runs again
