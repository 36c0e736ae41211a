"""Notebook 07's pieces against references: the texts' checksums, hand-counted FLOPs, causality, frozen weights,
LoRA's start and its parameter count, identical reruns, the checkpoint's record, and the budget-true plan."""

import copy
import hashlib
import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from helpers import experiment, gpt, language, text
from helpers import language_study as ls
from helpers.core import DataError

TINY = gpt.GPTConfig(context=16, layers=2, heads=2, width=32)


def windows(batch: int = 4, length: int = 17, seed: int = 0) -> torch.Tensor:
    return torch.randint(text.VOCAB_SIZE, (batch, length), generator=torch.Generator().manual_seed(seed))


# --- the texts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(text.WORKS))
def test_each_shipped_text_matches_its_checksum_and_the_alphabet(name):
    characters = text.read_text(name)
    assert hashlib.sha256(characters.encode("ascii")).hexdigest() == text.WORKS[name]
    assert set(characters) <= set(text.ALPHABET)
    assert len(characters) > 90_000


def test_data_readme_lists_every_text_with_its_checksum():
    readme = (text.TEXT_DIR.parent / "README.md").read_text()
    for name, digest in text.WORKS.items():
        assert name in readme and digest in readme, name


def test_a_damaged_text_is_refused_with_the_fix(tmp_path):
    (tmp_path / "shakespeare-macbeth.txt").write_text("Fair is foul", encoding="ascii")
    with pytest.raises(DataError, match="make corpus"):
        text.read_text("shakespeare-macbeth.txt", folder=tmp_path)
    with pytest.raises(DataError, match="missing"):
        text.read_text("shakespeare-hamlet.txt", folder=tmp_path)
    with pytest.raises(DataError, match="Unknown text"):
        text.read_text("war-and-peace.txt")


def test_encode_decode_round_trip_and_a_clear_error_for_other_characters():
    sample = "MACBETH:\nIs this a dagger which I see before me,"
    assert text.decode(text.encode(sample)) == sample
    with pytest.raises(ValueError, match="curly quotes"):
        text.encode("\u201cquoted\u201d")


def test_snippets_have_the_length_carry_no_speaker_names_and_no_line_breaks():
    play = "MACBETH:\nIs this a dagger which I see before me,\nThe handle toward my hand?\n\nLADY MACBETH:\nWhat?"
    cut = text.snippets(play, 32)
    assert all(len(s) == 32 and "\n" not in s and "MACBETH" not in s for s in cut)
    words = "Is this a dagger which I see before me, The handle toward my hand? What?".split()
    kept = " ".join(s.strip() for s in cut).split()
    assert kept == words[: len(kept)] and len(kept) >= 12  # in order; only an unfinished last snippet is dropped


def test_the_author_task_trains_on_the_start_and_tests_on_the_end_of_each_work():
    task = language.author_task("target")
    assert len(task.test_texts) == 2 * language.TEST_PER_CLASS
    assert not set(task.train_texts) & set(task.test_texts)
    for label, name in enumerate(language.AUTHOR_WORKS["target"].values()):
        lines = [line for line in text.read_text(name).splitlines() if not line.endswith(":")]  # as snippets do
        work = " ".join(" ".join(lines).split())
        first_test = next(s for s, y in zip(task.test_texts, task.test_labels) if y == label).strip()
        assert work.find(first_test) > 0.65 * len(work)  # from the last 30%


def test_few_shot_draws_k_per_class_and_a_seed_repeats_the_draw():
    task = language.author_task("dev")
    snippets, labels = language.few_shot(task, 5, seed=3)
    assert sorted(labels) == [0] * 5 + [1] * 5
    assert language.few_shot(task, 5, seed=3) == (snippets, labels)
    assert language.few_shot(task, 5, seed=4)[0] != snippets


# --- the model -----------------------------------------------------------------------------------------------


def test_flops_by_hand_match_pytorchs_count_including_attention():
    model = gpt.make_gpt(gpt.GPTConfig())
    batch = windows(8, 65)
    counted = language.lm_step_flops(model, batch)
    assert counted["forward"] == gpt.flops_per_token(model.config)["forward"] * 8 * 64
    # hand count of one block's attention scores and weighted sum: 2 x T x T x C multiply-adds, x2 FLOPs each
    without_attention = 2 * (12 * 128**2 * 4 + 128 * 96) * 8 * 64
    assert counted["forward"] - without_attention == 2 * 2 * 64 * 64 * 128 * 4 * 8


def test_attention_is_causal_no_position_sees_the_future():
    model = gpt.make_gpt(TINY).eval()
    tokens = windows(2, 16)
    changed = tokens.clone()
    changed[:, 10:] = (changed[:, 10:] + 1) % text.VOCAB_SIZE
    with torch.no_grad():
        assert torch.allclose(model(tokens)[:, :10], model(changed)[:, :10], atol=1e-6)
        assert not torch.allclose(model(tokens)[:, 10:], model(changed)[:, 10:])


def test_next_token_loss_is_cross_entropy_of_the_shifted_targets():
    model = gpt.make_gpt(TINY)
    batch = windows()
    logits = model(batch[:, :-1])
    manual = -torch.log_softmax(logits, -1).gather(2, batch[:, 1:, None]).mean()
    assert torch.allclose(language.next_token_loss(model, batch), manual, atol=1e-6)
    assert math.isclose(language.next_token_loss(gpt.make_gpt(TINY), batch).item(), math.log(96), rel_tol=0.02)


def test_a_context_too_long_is_refused():
    with pytest.raises(ValueError, match="longer than the model's context"):
        gpt.make_gpt(TINY)(windows(1, 17))


def test_generation_repeats_with_a_seed():
    model = gpt.make_gpt(TINY)
    prompt = text.encode("Emma")
    assert torch.equal(gpt.generate(model, prompt, 20, seed=1), gpt.generate(model, prompt, 20, seed=1))
    assert len(gpt.generate(model, prompt, 20)) == 24


def test_training_twice_gives_identical_weights_and_lowers_the_loss():
    tokens = text.encode(text.read_text("shakespeare-macbeth.txt")[:5000])
    recipe = language.LMRecipe(steps=30, batch_size=8, lr=3e-3, warmup=5, seed=0)
    runs = []
    for _ in range(2):
        model = gpt.make_gpt(TINY, seed=0)
        history = language.train_lm(model, tokens, recipe, held_out=tokens[-600:])
        runs.append((model, history))
    (a, history), (b, _) = runs
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert history.evaluations[30] < math.log(96) - 0.5
    assert history.tokens_seen == 30 * 8 * 16


def test_a_constant_rate_makes_a_long_runs_step_equal_a_short_run():
    """Why the development runs may be measured part-way: without decay, step 20 of 40 is a run of 20."""
    tokens = text.encode(text.read_text("shakespeare-hamlet.txt")[:4000])
    held_out = tokens[-500:]
    long_model, short_model = gpt.make_gpt(TINY), gpt.make_gpt(TINY)
    long = language.train_lm(long_model, tokens, ls.generative_recipe(1e-3, 40, 0), held_out, evaluate_at=(20,))
    short = language.train_lm(short_model, tokens, ls.generative_recipe(1e-3, 20, 0), held_out)
    assert long.evaluations[20] == pytest.approx(short.evaluations[20], abs=1e-6)


def test_freezing_all_but_the_last_block_leaves_the_rest_unchanged_by_training():
    model = language.freeze_all_but_last_block(gpt.make_gpt(TINY))
    before = copy.deepcopy(model.state_dict())
    language.train_lm(
        model, text.encode("To be, or not to be: that is the question. " * 20), language.LMRecipe(steps=5, batch_size=4)
    )
    for name, value in model.state_dict().items():
        trains = name.startswith(("blocks.1.", "ln_f.", "lm_head."))
        assert torch.equal(value, before[name]) != trains, name


def test_lora_starts_at_the_pretrained_model_trains_only_a_and_b_and_counts_rank_times_in_plus_out():
    model = gpt.make_gpt(TINY)
    tokens = windows()
    with torch.no_grad():
        before = model(tokens[:, :-1])
    adapted = language.add_lora(copy.deepcopy(model), rank=4)
    with torch.no_grad():
        assert torch.allclose(adapted(tokens[:, :-1]), before, atol=1e-6)  # B = 0: no change yet
    trainable = {n: p.numel() for n, p in adapted.named_parameters() if p.requires_grad}
    assert all(n.endswith((".A", ".B")) for n in trainable)
    per_block = 4 * (32 + 96) + 4 * (32 + 32)  # qkv: 32 -> 96; proj: 32 -> 32
    assert sum(trainable.values()) == 2 * per_block
    frozen = {n: p.clone() for n, p in adapted.named_parameters() if not p.requires_grad}
    language.train_lm(adapted, tokens.flatten(), language.LMRecipe(steps=3, batch_size=2, warmup=1))
    assert all(torch.equal(p, frozen[n]) for n, p in adapted.named_parameters() if n in frozen)


def test_checkpoint_round_trip_and_a_damaged_file_names_the_fix(tmp_path):
    model = gpt.make_gpt(TINY, seed=3)
    path = language.save_lm(model, tmp_path / "lm.pt", language.LMRecipe(steps=1), held_out=2.0)
    loaded, meta = language.load_lm(path)
    assert all(torch.equal(x, y) for x, y in zip(model.state_dict().values(), loaded.state_dict().values()))
    assert meta["config"] == TINY.as_dict() and meta["held_out_loss"] == 2.0
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(language.LMCheckpointError, match="make pretrain-lm"):
        language.load_lm(path)
    with pytest.raises(language.LMCheckpointError, match="missing"):
        language.load_lm(tmp_path / "absent.pt")


@pytest.mark.slow  # seconds of training or waiting: in make test, not make test-fast
def test_the_shipped_checkpoint_matches_its_record_and_its_corpus():
    model, meta = language.load_lm()
    record = ls.pretraining_record()
    assert meta["corpus"] == {name: text.WORKS[name] for name in text.PRETRAINING_WORKS}
    assert record["parameters"] == sum(p.numel() for p in model.parameters())
    assert record["train_flops"] == gpt.flops_per_token(model.config)["train"] * record["characters_seen"]
    corpus = text.pretraining_text()
    assert language.held_out_loss(model, corpus.held_out) == pytest.approx(record["held_out_loss"], abs=1e-3)
    assert record["held_out_loss"] < math.log(text.VOCAB_SIZE) - 2


# --- the budget-true comparison ------------------------------------------------------------------------------


def test_no_target_work_is_used_to_choose_a_recipe():
    dev_works = {ls.GENERATIVE_WORKS["dev"], *language.AUTHOR_WORKS["dev"].values()}
    target_works = {ls.GENERATIVE_WORKS["target"], *language.AUTHOR_WORKS["target"].values()}
    assert not dev_works & target_works
    assert not target_works & set(text.PRETRAINING_WORKS)
    assert all(trial.pairing == "dev" for trial in ls.dev_plan())


def test_recipes_are_the_best_dev_scores_lowest_loss_or_highest_accuracy():
    dev = pd.DataFrame(
        [
            {"task": "generative", "approach": "a", "budget": 10, "setting": 0.1, "curve": {"50": 2.0, "100": 1.5}},
            {"task": "generative", "approach": "a", "budget": 10, "setting": 0.3, "curve": {"50": 1.7, "100": 1.9}},
            {"task": "classification", "approach": "b", "budget": 1, "setting": 1.0, "curve": {"0": 0.6}},
            {"task": "classification", "approach": "b", "budget": 1, "setting": 10.0, "curve": {"0": 0.7}},
        ]
    )
    assert ls.choose_recipes(dev) == {("generative", "a", 10): (0.1, 100), ("classification", "b", 1): (10.0, 0)}


def test_the_shipped_results_cover_the_plan_and_pair_by_seed():
    found = ls.load()
    cached = set(experiment.load_cache(ls.RESULTS_PATH))  # the shipped cache: exactly the planned trials
    planned = {trial.key() for trial in ls.dev_plan() + ls.target_plan(found.recipes)}
    assert cached == planned, f"{len(cached - planned)} stale rows, {len(planned - cached)} missing"
    for row in found.target.itertuples():  # each reported run ran the recipe the development runs chose
        assert (row.setting, row.steps) == found.recipes[row.task, row.approach, row.budget], row
    p = ls.paired(found, "classification", "full fine-tuning", "from scratch", 10)
    rows = ls.task_rows(found, "classification").query("budget == 10")
    a = rows[rows.approach == "full fine-tuning"].sort_values("seed").score.to_numpy()
    b = rows[rows.approach == "from scratch"].sort_values("seed").score.to_numpy()
    assert p["mean"] == pytest.approx((a - b).mean())
    assert p["seeds"] == len(ls.CLASSIFICATION_SEEDS)


@pytest.mark.slow
def test_a_cached_trial_reruns_to_the_same_number():
    found = ls.load()
    row = ls.task_rows(found, "classification").query("approach == 'n-grams' and budget == 5 and seed == 1").iloc[0]
    trial = ls.LanguageTrial("classification", "target", "n-grams", 5, row.setting, 0, 1)
    assert ls.run(trial)["score"] == row.score
    row = ls.task_rows(found, "generative").query("approach == 'last block' and budget == 1000 and seed == 0").iloc[0]
    trial = ls.LanguageTrial("generative", "target", "last block", 1000, row.setting, int(row.steps), 0)
    assert ls.run(trial)["score"] == pytest.approx(row.score, abs=1e-4)
    ls.pretrained.cache_clear()  # the first trial of a process, as in a fresh sweep worker
    row = ls.task_rows(found, "classification").query("approach == 'LoRA' and budget == 2 and seed == 4").iloc[0]
    trial = ls.LanguageTrial("classification", "target", "LoRA", 2, row.setting, int(row.steps), 4)
    assert ls.run(trial)["score"] == row.score


def test_the_ngram_baseline_learns_a_separable_task():
    snippets = ["thou art my lord " * 3, "thee and thine " * 3, "Mr. Darcy and Miss Bennet" * 2, "Mrs. Bennet said" * 3]
    model = language.ngram_baseline(snippets, [1, 1, 0, 0])
    assert language.ngram_accuracy(model, ("thou art", "Miss Bennet"), (1, 0)) == 1.0


def test_the_classifier_head_reads_the_mean_hidden_state():
    body = gpt.make_gpt(TINY)
    classifier = language.TextClassifier(body, 2)
    tokens = windows(3, 16)
    expected = classifier.head(body.hidden(tokens).mean(dim=1))
    assert torch.allclose(classifier(tokens), expected)
    assert F.softmax(classifier(tokens), -1).shape == (3, 2)


def test_held_out_loss_scores_every_character_but_the_first_once_and_refuses_a_short_text():
    model = gpt.make_gpt(TINY)
    tokens = windows(1, 16 * 3 + 1).flatten()  # exactly three windows of 17 overlapping by one
    logits = model(torch.stack([tokens[i * 16 : i * 16 + 16] for i in range(3)]))
    targets = torch.stack([tokens[i * 16 + 1 : i * 16 + 17] for i in range(3)])
    expected = F.cross_entropy(logits.reshape(-1, text.VOCAB_SIZE), targets.reshape(-1)).item()
    assert language.held_out_loss(model, tokens, batch_size=2) == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ValueError, match="at least 17"):
        language.held_out_loss(model, tokens[:16])


def test_a_lora_classifier_trains_only_a_b_and_its_head():
    classifier = language.TextClassifier(gpt.make_gpt(TINY), 2)
    language.add_lora(classifier, rank=2)
    classifier.head.requires_grad_(True)
    trainable = {name for name, p in classifier.named_parameters() if p.requires_grad}
    assert trainable == {
        n for n, _ in classifier.named_parameters() if n.endswith((".A", ".B")) or n.startswith("head.")
    }
    assert not classifier.body.lm_head.weight.requires_grad
    with pytest.raises(ValueError, match="LoRA layers already"):
        language.add_lora(classifier)


def test_the_development_runs_read_only_development_works(monkeypatch):
    read = []
    original = text.read_text
    monkeypatch.setattr(text, "read_text", lambda name, *a, **k: read.append(name) or original(name, *a, **k))
    ls.generative_text.cache_clear()
    ls.author_task.cache_clear()
    ls.generative_text("dev")
    ls.author_task("dev")
    ls.generative_text.cache_clear()
    ls.author_task.cache_clear()
    assert set(read) == {ls.GENERATIVE_WORKS["dev"], *language.AUTHOR_WORKS["dev"].values()}


def _results(generative: dict, classification: dict) -> ls.LanguageResults:
    """Synthetic results: {approach: [score per seed]} at one budget for each task."""
    rows = []
    for task, budget, scores in (("generative", 1000, generative), ("classification", 5, classification)):
        for approach, values in scores.items():
            flops = {"from scratch": 9e12, "full fine-tuning": 1e12}.get(approach, 0)
            rows += [
                {
                    "task": task,
                    "approach": approach,
                    "budget": budget,
                    "seed": seed,
                    "score": v,
                    "seconds": 1.0,
                    "train_flops": flops,
                    "trainable_params": 10,
                }
                for seed, v in enumerate(values)
            ]
    return ls.LanguageResults(dev=None, target=pd.DataFrame(rows), recipes={})


def test_paired_signs_verdicts_and_wins_for_loss_and_for_accuracy():
    found = _results(
        {"from scratch": [3.0, 3.1, 3.2, 3.0], "full fine-tuning": [2.0, 2.2, 2.1, 2.05]},
        {"from scratch": [0.5, 0.52, 0.51, 0.5], "full fine-tuning": [0.7, 0.72, 0.69, 0.71]},
    )
    loss = ls.paired(found, "generative", "full fine-tuning", "from scratch", 1000)
    assert loss["mean"] < 0 and loss["won"] == 4 and ls.resolved(loss, "generative") == "better"
    accuracy = ls.paired(found, "classification", "full fine-tuning", "from scratch", 5)
    assert accuracy["mean"] > 0 and accuracy["won"] == 4 and ls.resolved(accuracy, "classification") == "better"
    backwards = ls.paired(found, "classification", "from scratch", "full fine-tuning", 5)
    assert ls.resolved(backwards, "classification") == "worse"
    table = ls.comparisons(found, "classification", "full fine-tuning", ("from scratch",))
    row = table.iloc[0]
    assert (row.approach, row.baseline, row.budget, row.won, row.seeds) == ("from scratch", "full fine-tuning", 5, 0, 4)
    assert (row.difference, row.low, row.high) == (backwards["mean"], backwards["low"], backwards["high"])
    assert row.verdict == "worse" and list(row.differences) == list(backwards["differences"])
    mixed = {"mean": 0.01, "low": -0.02, "high": 0.04}
    assert ls.resolved(mixed, "classification") == ls.resolved(mixed, "generative") == "unresolved"


def test_ranking_orders_by_mean_and_gives_each_pair_its_verdict_seed_by_seed():
    losses = {
        "from scratch": [3.0, 3.1, 3.2, 3.0],
        "full fine-tuning": [2.0, 2.2, 2.1, 2.05],
        "last block": [2.9, 3.3, 2.8, 3.2],
    }
    accuracies = {
        "from scratch": [0.5, 0.52, 0.51, 0.5],
        "full fine-tuning": [0.7, 0.72, 0.69, 0.71],
        "n-grams": [0.4, 0.75, 0.45, 0.72],
    }
    found = _results(losses, accuracies)
    order, verdicts = ls.ranking(found, "classification", ["from scratch", "n-grams", "full fine-tuning"], 5)
    assert order == ["full fine-tuning", "n-grams", "from scratch"]  # means 0.705, 0.58, 0.5075
    assert verdicts == {
        ("full fine-tuning", "n-grams"): "unresolved",  # ahead on the mean, behind in two seeds of four
        ("full fine-tuning", "from scratch"): "better",
        ("n-grams", "from scratch"): "unresolved",
    }
    order, verdicts = ls.ranking(found, "generative", ["from scratch", "full fine-tuning", "last block"], 1000)
    assert order == ["full fine-tuning", "last block", "from scratch"]  # lowest loss first
    assert verdicts[("full fine-tuning", "from scratch")] == "better"
    assert verdicts[("last block", "from scratch")] == "unresolved"


def test_break_even_is_the_first_whole_number_of_tasks_that_costs_less(monkeypatch):
    monkeypatch.setattr(ls, "pretraining_record", lambda: {"train_flops": 16e12})
    found = _results({"from scratch": [3.0], "full fine-tuning": [2.0]}, {"from scratch": [0.5], "n-grams": [0.6]})
    n = ls.break_even(found, "generative", 1000, "full fine-tuning")
    assert n == 3  # 16e12 + N * 1e12 < N * 9e12 first at N = 3 (N = 2 costs exactly the same)
    assert 16e12 + n * 1e12 < n * 9e12 and not 16e12 + (n - 1) * 1e12 < (n - 1) * 9e12
    assert ls.break_even(found, "classification", 5, "n-grams") == 2  # 16e12 / 9e12 = 1.8: more than one task
    cheaper_scratch = _results({"from scratch": [3.0], "last block": [2.0]}, {"from scratch": [0.5]})
    cheaper_scratch.target.loc[cheaper_scratch.target.approach == "last block", "train_flops"] = 1e13
    assert ls.break_even(cheaper_scratch, "generative", 1000, "last block") == float("inf")


def test_a_new_head_starts_the_same_whether_or_not_the_pretrained_model_was_loaded_before():
    """Loading builds a fresh GPT (random numbers); it must not shift the seeded head a trial starts from."""
    ls.pretrained.cache_clear()
    first = language.TextClassifier(ls.start_model("full fine-tuning", 3), 2).head.weight.detach().clone()
    again = language.TextClassifier(ls.start_model("full fine-tuning", 3), 2).head.weight.detach()
    assert torch.equal(first, again)
