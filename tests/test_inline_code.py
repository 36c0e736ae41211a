"""The PyTorch a notebook writes out (cells tagged inline-...) does exactly what the helper it stands for does.

Each test runs the notebook's own cell, read from the .ipynb, so the test fails if the notebook's lines and
the helper drift apart.
"""

import contextlib
import copy
import io
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from helpers import checkpoint, transfer

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def tagged_cell(notebook: str, tag: str) -> str:
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    found = [cell for cell in cells if tag in cell.get("metadata", {}).get("tags", [])]
    assert len(found) == 1, f"{notebook} should have one cell tagged {tag!r}, has {len(found)}"
    return "".join(found[0]["source"])


def run_cell(source: str, **names) -> dict:
    namespace = dict(names)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, "<notebook cell>", "exec"), namespace)  # noqa: S102  (our own notebook's code)
    return namespace


def test_03_swaps_the_head_and_freezes_as_the_helpers_do():
    inline = run_cell(
        tagged_cell("03_reuse_the_features.ipynb", "inline-freeze"),
        checkpoint=checkpoint,
        torch=torch,
        nn=nn,
        transfer=transfer,
        SEED=0,
    )["model"]
    helper = transfer.freeze(transfer.pretrained_model(10, seed=0))
    assert inline.state_dict().keys() == helper.state_dict().keys()
    for key, value in helper.state_dict().items():
        assert torch.equal(inline.state_dict()[key], value), key
    trains = {name: p.requires_grad for name, p in helper.named_parameters()}
    assert {name: p.requires_grad for name, p in inline.named_parameters()} == trains
    assert not any(trains[name] for name in trains if name.startswith("backbone."))
    bn_modes = {name: m.training for name, m in helper.named_modules() if isinstance(m, nn.BatchNorm2d)}
    assert {name: m.training for name, m in inline.named_modules() if isinstance(m, nn.BatchNorm2d)} == bn_modes


def test_01_the_written_out_loop_is_fit_without_its_extras():
    import torch.nn.functional as F

    from helpers import data, models, train

    train_set = data.source_task("train")
    config = models.CNNConfig(num_classes=len(train_set.classes))
    recipe = train.TrainConfig(steps=4, batch_size=128, lr=3e-3, schedule="constant", shift=0, seed=0)
    names = run_cell(
        tagged_cell("01_pretrain_source.ipynb", "inline-loop"),
        torch=torch,
        F=F,
        data=data,
        models=models,
        train_set=train_set,
        config=config,
        RECIPE=recipe,
        LOOP_STEPS=4,
    )
    helper = models.make_model(config, seed=0)
    train.fit(helper, train_set, recipe, device=torch.device("cpu"))
    for key, value in helper.state_dict().items():
        assert torch.equal(names["demo"].state_dict()[key], value), key
    assert len(names["losses"]) == 4


def test_04_the_written_out_parameter_groups_are_param_groups():
    names = run_cell(
        tagged_cell("04_fine_tuning.ipynb", "inline-param-groups"),
        torch=torch,
        pretrained=lambda seed: transfer.pretrained_model(10, seed=seed),
        SEED=0,
    )
    inline = names["optimizer"].param_groups
    helper = transfer.param_groups(names["demo"], head_lr=names["head_lr"], decay=names["decay"])
    assert [g["name"] for g in inline] == [g["name"] for g in helper]
    for mine, theirs in zip(inline, helper):
        assert mine["lr"] == theirs["lr"]
        assert [id(p) for p in mine["params"]] == [id(p) for p in theirs["params"]]


def test_04_the_written_out_batchnorm_fix_is_train_mode():
    from helpers import train

    names = run_cell(
        tagged_cell("04_fine_tuning.ipynb", "inline-bn-fix"),
        torch=torch,
        nn=nn,
        transfer=transfer,
        pretrained=lambda seed: transfer.pretrained_model(10, seed=seed),
        SEED=0,
    )
    for frozen in ([], ["block1"], ["block1", "block2", "block3"]):
        inline, helper = (transfer.freeze(transfer.pretrained_model(10, seed=0), frozen) for _ in range(2))
        names["train_mode_keeping_frozen_batchnorm"](inline)
        train.train_mode(helper)
        modes = [m.training for m in helper.modules()]
        assert [m.training for m in inline.modules()] == modes
        assert modes.count(False) == len(frozen)  # one BatchNorm per frozen block stays in eval mode


def test_03_the_mobilenet_bridge_trains_only_the_new_head_and_the_helpers_say_why_not():
    from helpers import cost, pretrained

    # The loader returns the model in eval mode; handing the cell one in training mode shows that its own
    # lines put the backbone's BatchNorm in eval mode.
    training = SimpleNamespace(load_mobilenet_v2=lambda: pretrained.load_mobilenet_v2().train())
    names = run_cell(
        tagged_cell("03_reuse_the_features.ipynb", "inline-mobilenet"),
        torch=torch,
        nn=nn,
        cost=cost,
        pretrained=training,
        SEED=0,
    )
    mobilenet, imagenet = names["mobilenet"], pretrained.load_mobilenet_v2()
    head = 1280 * 10 + 10  # a weight per (feature, class) pair, plus a bias per class
    assert cost.count_parameters(mobilenet) == {
        "total": pretrained.MOBILENET_V2_PARAMETERS - (1280 * 1000 + 1000) + head,  # ImageNet's head swapped out
        "trainable": head,
    }
    assert all(p.requires_grad == name.startswith("classifier.1.") for name, p in mobilenet.named_parameters())
    assert not any(m.training for m in mobilenet.features.modules())  # BatchNorm keeps ImageNet's statistics
    for key, value in imagenet.features.state_dict().items():  # the backbone is ImageNet's, untouched
        assert torch.equal(mobilenet.features.state_dict()[key], value), key
    torch.manual_seed(0)
    assert torch.equal(mobilenet.classifier[1].weight, nn.Linear(1280, 10).weight)  # the seeded head
    for helper in (transfer.freeze, transfer.unfreeze, lambda m: transfer.replace_head(m, 10)):
        with pytest.raises(TypeError, match=re.escape("model.classifier[1] = nn.Linear(model.last_channel")):
            helper(mobilenet)
    with pytest.raises(TypeError, match="suite's CNN"):
        transfer.param_groups(mobilenet, head_lr=1e-3)


def test_07_lora_written_out_is_the_helpers_lora():
    from helpers import gpt, language

    LoRALinear = run_cell(
        tagged_cell("07_transfer_in_language_models.ipynb", "inline-lora"), torch=torch, nn=nn, math=math
    )["LoRALinear"]
    linear = nn.Linear(32, 96)
    torch.manual_seed(0)
    inline = LoRALinear(linear, rank=4, alpha=8.0)
    torch.manual_seed(0)
    helper = language.LoRALinear(copy.deepcopy(linear), rank=4, alpha=8.0)
    assert {n: p.shape for n, p in inline.named_parameters()} == {n: p.shape for n, p in helper.named_parameters()}
    assert torch.equal(inline.A, helper.A) and torch.equal(inline.B, helper.B)
    assert not inline.linear.weight.requires_grad and inline.A.requires_grad and inline.B.requires_grad
    with torch.no_grad():
        inline.B.normal_()
        helper.B.copy_(inline.B)
    x = torch.randn(5, 7, 32)
    assert torch.allclose(inline(x), helper(x), atol=1e-6)
    model = gpt.make_gpt(gpt.GPTConfig(context=8, layers=1, heads=2, width=32))
    model.blocks[0].attn.qkv = LoRALinear(model.blocks[0].attn.qkv, rank=2)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad) - sum(
        p.numel() for n, p in model.named_parameters() if "qkv" not in n
    )
    assert trainable == 2 * (32 + 96)
