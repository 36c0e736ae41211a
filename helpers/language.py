"""Notebook 07's training: pretrain and fine-tune the tiny GPT, freeze all but its last block, LoRA, a text classifier.

Each function is a few lines of plain PyTorch, so the notebook can write the one a lesson is
about and check it against this one. Everything is seeded: the same call gives the same numbers
on the same machine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers import cost, text
from helpers.core import CHECKPOINT_DIR, atomic_path
from helpers.gpt import GPT, GPTConfig

LM_CHECKPOINT = CHECKPOINT_DIR / "tiny_gpt_austen.pt"
LM_FORMAT_VERSION = 1


@dataclass(frozen=True)
class LMRecipe:
    """How a language model trains: AdamW, a short linear warm-up, then cosine decay to a tenth."""

    steps: int
    batch_size: int = 16  # windows of context + 1 characters per step
    lr: float = 1e-3
    warmup: int = 20
    weight_decay: float = 0.01
    seed: int = 0
    decay: bool = True  # False: a constant rate after the warm-up, so step s of a long run = a run of s steps

    def as_dict(self) -> dict:
        return asdict(self)


# make pretrain-lm: about 1 million characters (0.7 passes over the two novels), under 2 minutes on 2 cores.
PRETRAIN_RECIPE = LMRecipe(steps=1000, batch_size=16, lr=2e-3, warmup=50, seed=0)


@dataclass
class LMHistory:
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)  # training loss, nats per character
    evaluations: dict[int, float] = field(default_factory=dict)  # step -> held-out loss
    seconds: float = 0.0
    tokens_seen: int = 0


def random_windows(tokens: torch.Tensor, batch_size: int, context: int, generator: torch.Generator) -> torch.Tensor:
    """(batch_size, context + 1) windows cut at random places: inputs are [:, :-1], targets [:, 1:]."""
    if len(tokens) < context + 1:
        raise ValueError(f"a text of {len(tokens)} characters is shorter than one window of {context + 1}")
    starts = torch.randint(len(tokens) - context, (batch_size,), generator=generator)
    return torch.stack([tokens[start : start + context + 1] for start in starts.tolist()])


def schedule(recipe: LMRecipe) -> Callable[[int], float]:
    """Multiplier of the learning rate at each step: linear warm-up, then cosine down to 0.1."""

    def factor(step: int) -> float:
        if step < recipe.warmup:
            return (step + 1) / recipe.warmup
        if not recipe.decay:
            return 1.0
        progress = (step - recipe.warmup) / max(1, recipe.steps - recipe.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return factor


# Notebook 07's Exercise 2 asks for this function; it lives here, beside the loop that calls it, rather
# than in helpers/gpt.py, which the notebook asks a learner to read before the exercise.
def next_token_loss(model: GPT, tokens: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of predicting tokens[:, 1:] from tokens[:, :-1], in nats per character."""
    logits = model(tokens[:, :-1])  # (B, T-1, vocab)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))


def lm_step_flops(model: GPT, windows: torch.Tensor) -> dict[str, int]:
    """FLOPs of one next-character training step on (B, T + 1) `windows`, counted by PyTorch (cost.step_flops)."""
    return cost.step_flops(model, lambda: next_token_loss(model, windows))


LOG_EVERY = 10  # train_lm records the training loss every this many steps


def train_lm(
    model: GPT,
    tokens: torch.Tensor,
    recipe: LMRecipe,
    held_out: torch.Tensor | None = None,
    evaluate_at: tuple[int, ...] = (),
    log_every: int = LOG_EVERY,
) -> LMHistory:
    """Next-character training on `tokens`; only parameters with requires_grad train.

    `evaluate_at` lists steps after which the held-out loss is measured (for choosing steps on a
    development text); the final step is always measured when `held_out` is given.
    """
    generator = torch.Generator().manual_seed(recipe.seed)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=recipe.lr, weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule(recipe))
    history = LMHistory()
    model.train()
    start = time.perf_counter()
    for step in range(1, recipe.steps + 1):
        batch = random_windows(tokens, recipe.batch_size, model.config.context, generator)
        loss = next_token_loss(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        history.tokens_seen += batch[:, 1:].numel()
        if step % log_every == 0 or step == recipe.steps:
            history.steps.append(step)
            history.losses.append(loss.item())
        if held_out is not None and (step in evaluate_at or step == recipe.steps):
            history.seconds += time.perf_counter() - start
            history.evaluations[step] = held_out_loss(model, held_out)
            model.train()
            start = time.perf_counter()
    history.seconds += time.perf_counter() - start
    return history


@torch.no_grad()
def held_out_loss(model: GPT, tokens: torch.Tensor, batch_size: int = 64) -> float:
    """Mean next-character loss over `tokens` cut into consecutive windows of context + 1.

    Windows overlap by one character, so every character but the first is scored once as a target,
    except the last (len - 1) % context, which do not fill a window. Leaves the model in eval mode.
    """
    context = model.config.context
    if len(tokens) < context + 1:
        raise ValueError(f"held-out text of {len(tokens)} characters; at least {context + 1} are needed")
    model.eval()
    starts = range(0, len(tokens) - context, context)
    batch = torch.stack([tokens[start : start + context + 1] for start in starts])
    total, count = 0.0, 0
    for chunk in batch.split(batch_size):
        total += next_token_loss(model, chunk).item() * chunk[:, 1:].numel()
        count += chunk[:, 1:].numel()
    return total / count


# --- the checkpoint ------------------------------------------------------------------------------------


class LMCheckpointError(Exception):
    """The language model's checkpoint is missing, damaged or for another model."""


def save_lm(model: GPT, path: Path, recipe: LMRecipe, held_out: float) -> Path:
    """Weights and what they are: the config, the recipe, the corpus checksums, the held-out loss."""
    payload = {
        "format": LM_FORMAT_VERSION,
        "config": model.config.as_dict(),
        "state_dict": model.state_dict(),
        "recipe": recipe.as_dict(),
        "corpus": {name: text.WORKS[name] for name in text.PRETRAINING_WORKS},
        "held_out_loss": held_out,
    }
    with atomic_path(path) as staged:
        torch.save(payload, staged)
    return Path(path)


def load_lm(path: Path = LM_CHECKPOINT) -> tuple[GPT, dict]:
    """(model, metadata) from a checkpoint, loaded with weights_only=True (no code runs)."""
    fix = "restore it with `git checkout -- checkpoints/` or rebuild it with `make pretrain-lm` (under 2 minutes)"
    if not Path(path).exists():
        raise LMCheckpointError(f"{path} is missing; {fix}.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload.get("format") != LM_FORMAT_VERSION:
            raise ValueError(f"format {payload.get('format')!r}, this code reads format {LM_FORMAT_VERSION}")
        model = GPT(GPTConfig(**payload["config"]))
        model.load_state_dict(payload["state_dict"])
    except Exception as error:  # unpickling errors, missing keys, wrong shapes
        raise LMCheckpointError(f"{path} could not be read as the tiny GPT ({error}); {fix}.") from error
    return model, {key: value for key, value in payload.items() if key != "state_dict"}


# --- fine-tuning choices -----------------------------------------------------------------------------


def freeze_all_but_last_block(model: GPT) -> GPT:
    """Only the last block, the final LayerNorm and the head train; embeddings and earlier blocks are frozen."""
    for parameter in model.parameters():
        parameter.requires_grad = False
    for module in (model.blocks[-1], model.ln_f, model.lm_head):
        for parameter in module.parameters():
            parameter.requires_grad = True
    return model


class LoRALinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update: W x + (alpha / r) B A x (Hu et al., 2021)."""

    def __init__(self, linear: nn.Linear, rank: int = 4, alpha: float = 8.0) -> None:
        super().__init__()
        self.linear = linear.requires_grad_(False)
        self.A = nn.Parameter(torch.randn(rank, linear.in_features) / math.sqrt(linear.in_features))  # (r, in)
        self.B = nn.Parameter(torch.zeros(linear.out_features, rank))  # (out, r): zero, so training starts at W
        self.scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + (x @ self.A.T @ self.B.T) * self.scale


def add_lora(model: nn.Module, rank: int = 4, alpha: float = 8.0) -> nn.Module:
    """Freeze every weight, then give each attention layer (qkv and proj) a trainable LoRA update.

    A TextClassifier's new head is frozen too: unfreeze it after (`model.head.requires_grad_(True)`).
    """
    if any(isinstance(module, LoRALinear) for module in model.modules()):
        raise ValueError("this model has LoRA layers already; add LoRA to a fresh copy of the model")
    for parameter in model.parameters():
        parameter.requires_grad = False
    for block in _blocks(model):
        block.attn.qkv = LoRALinear(block.attn.qkv, rank, alpha)
        block.attn.proj = LoRALinear(block.attn.proj, rank, alpha)
    return model


def _blocks(model: nn.Module) -> nn.ModuleList:
    return model.body.blocks if isinstance(model, TextClassifier) else model.blocks


# --- classification --------------------------------------------------------------------------------------


class TextClassifier(nn.Module):
    """The GPT's body with a new head: mean hidden state -> class scores (the language-model head goes unused)."""

    def __init__(self, body: GPT, num_classes: int) -> None:
        super().__init__()
        self.body = body
        self.body.lm_head.requires_grad_(False)  # unused here: it neither trains nor counts as trainable
        self.head = nn.Linear(body.config.width, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.body.features(tokens))  # (B, T) -> (B, C) -> (B, classes)


@dataclass(frozen=True)
class TextTask:
    """Snippets and labels: which work a snippet of text comes from."""

    train_texts: tuple[str, ...]  # the pool a budget draws from (the first 70% of each work)
    train_labels: tuple[int, ...]
    test_texts: tuple[str, ...]  # balanced, from the last 30% of each work
    test_labels: tuple[int, ...]
    classes: tuple[str, ...]


SNIPPET_LENGTH = 64  # = the model's context
TEST_PER_CLASS = 300
AUTHOR_WORKS = {  # class name -> work; the target task, then the development pairing (other works)
    "target": {
        "Austen (Persuasion)": "austen-persuasion.txt",
        "Shakespeare (Twelfth Night)": "shakespeare-twelfth-night.txt",
    },
    "dev": {
        "Austen (Northanger Abbey)": "austen-northanger-abbey.txt",
        "Shakespeare (Hamlet)": "shakespeare-hamlet.txt",
    },
}


def author_task(pairing: str = "target", train_fraction: float = 0.7) -> TextTask:
    """Which author wrote this snippet? Training pool from each work's first 70%, test from its last 30%."""
    train_texts, train_labels, test_texts, test_labels = [], [], [], []
    for label, name in enumerate(AUTHOR_WORKS[pairing].values()):
        characters = text.read_text(name)
        cut = int(len(characters) * train_fraction)
        pool, tail = text.snippets(characters[:cut], SNIPPET_LENGTH), text.snippets(characters[cut:], SNIPPET_LENGTH)
        order = torch.randperm(len(tail), generator=torch.Generator().manual_seed(label)).tolist()
        train_texts += pool
        train_labels += [label] * len(pool)
        test_texts += [tail[i] for i in order[:TEST_PER_CLASS]]
        test_labels += [label] * min(TEST_PER_CLASS, len(tail))
    classes = tuple(AUTHOR_WORKS[pairing])
    return TextTask(tuple(train_texts), tuple(train_labels), tuple(test_texts), tuple(test_labels), classes)


def few_shot(task: TextTask, per_class: int, seed: int) -> tuple[list[str], list[int]]:
    """`per_class` training snippets of each class, drawn from the pool with `seed`."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.tensor(task.train_labels)
    chosen = []
    for label in range(len(task.classes)):
        members = torch.nonzero(labels == label).flatten()
        if per_class > len(members):
            raise ValueError(f"{per_class} per class asked, but class {label} has {len(members)} snippets")
        chosen += members[torch.randperm(len(members), generator=generator)[:per_class]].tolist()
    return [task.train_texts[i] for i in chosen], [task.train_labels[i] for i in chosen]


def encode_batch(snippets: list[str] | tuple[str, ...]) -> torch.Tensor:
    """(N, SNIPPET_LENGTH) token ids."""
    return torch.stack([text.encode(snippet) for snippet in snippets])


@dataclass(frozen=True)
class ClassifierRecipe:
    steps: int
    lr: float
    batch_size: int = 16
    weight_decay: float = 0.01
    seed: int = 0


def train_classifier(
    model: TextClassifier,
    snippets: list[str],
    labels: list[int],
    recipe: ClassifierRecipe,
    test: tuple[torch.Tensor, torch.Tensor] | None = None,
    evaluate_at: tuple[int, ...] = (),
) -> dict:
    """Cross-entropy on the labelled snippets, batches drawn with replacement.

    Returns the training seconds, the tokens read and, at each step asked, the test accuracy.
    """
    x, y = encode_batch(snippets), torch.tensor(labels)
    generator = torch.Generator().manual_seed(recipe.seed)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=recipe.lr, weight_decay=recipe.weight_decay)
    accuracies, seconds, tokens = {}, 0.0, 0
    for step in range(1, recipe.steps + 1):
        start = time.perf_counter()
        model.train()
        rows = torch.randint(len(y), (min(recipe.batch_size, len(y)),), generator=generator)
        loss = F.cross_entropy(model(x[rows]), y[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seconds += time.perf_counter() - start
        tokens += x[rows].numel()
        if test is not None and (step in evaluate_at or step == recipe.steps):
            accuracies[step] = accuracy(model, *test)
    return {"seconds": seconds, "tokens": tokens, "accuracies": accuracies}


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256) -> float:
    model.eval()
    predictions = torch.cat([model(chunk).argmax(dim=1) for chunk in x.split(batch_size)])
    return (predictions == y).float().mean().item()


def ngram_baseline(snippets: list[str], labels: list[int], C: float = 10.0) -> object:
    """The classical baseline: logistic regression on TF-IDF of character 1- to 4-grams (scikit-learn)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # imported here: most lessons never use it
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
        LogisticRegression(C=C, max_iter=1000),
    )
    return model.fit(snippets, labels)


def ngram_accuracy(model: object, snippets: tuple[str, ...], labels: tuple[int, ...]) -> float:
    return float(np.mean(model.predict(list(snippets)) == np.asarray(labels)))
