"""How the source task's printed letters were made: drawn from the fonts that ship with matplotlib.

Real OCR models pretrain on text they render themselves; this is that idea in miniature.
Each of ~20 text faces draws each letter once; then every example gets its own random
size, rotation, slant, stroke weight and shift. Same seed, same images, on one machine.

Rendering is floating-point work whose last bits depend on Pillow's version and on the
processor, so the letters the lessons use are not rendered here at run time: the exact
sets the shipped models were trained on ship in `data/letters/` with their checksums
(`helpers.data.load_letters`). This module is the rebuild tool behind `make letters`.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from helpers.core import Dataset

# Upper-case letters and the lower-case ones that do not look like their capitals
# (c/C, o/O, s/S... would be the same class once sizes vary). No digits: they are the target.
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"

FONT_FILES = (
    *("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf"),
    *("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf", "DejaVuSansMono-BoldOblique.ttf"),
    *("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf"),
    *("STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf", "STIXGeneralBolIta.ttf"),
    *("cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf"),
)  # four families in four styles, and four Computer Modern faces

CANVAS = 56  # glyphs are drawn and distorted at twice the final 28x28, then averaged down
BOX = 40  # a glyph's longer side at scale 1: 20 px after downsampling, like MNIST's digits
SPLITS = {"train": (800, 0), "test": (200, 1)}  # split: (examples per letter, seed) of the shipped sets


def font_dir() -> Path:
    """Where matplotlib keeps its TrueType fonts."""
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def render_glyph(font_path: Path, char: str) -> torch.Tensor:
    """One character, white on black, scaled so its longer side is BOX px, centred in CANVAS x CANVAS."""
    font = ImageFont.truetype(str(font_path), size=96)
    image = Image.new("L", (192, 192), 0)
    ImageDraw.Draw(image).text((48, 24), char, fill=255, font=font)
    image = image.crop(image.getbbox())
    scale = BOX / max(image.size)
    width, height = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    image = image.resize((width, height), Image.LANCZOS)
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    canvas.paste(image, ((CANVAS - width) // 2, (CANVAS - height) // 2))
    return torch.from_numpy(np.asarray(canvas, dtype=np.float32) / 255.0)


def render_all_glyphs() -> torch.Tensor:
    """(num_fonts, num_letters, CANVAS, CANVAS): every letter in every font, undistorted."""
    folder = font_dir()
    missing = [name for name in FONT_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"matplotlib's fonts {missing} are missing from {folder}; reinstall matplotlib.")
    return torch.stack([torch.stack([render_glyph(folder / f, c) for c in LETTERS]) for f in FONT_FILES])


def distort(glyphs: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random size, rotation, slant, shift and stroke weight for each glyph (B, CANVAS, CANVAS) -> (B, 28, 28)."""
    B = glyphs.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:  # (B,) draws, one per glyph
        return low + (high - low) * torch.rand(B, generator=generator)

    angle = uniform(-0.26, 0.26)  # radians, about +-15 degrees
    scale = uniform(0.75, 1.15)
    shear = uniform(-0.25, 0.25)
    shift_x, shift_y = uniform(-0.1, 0.1), uniform(-0.1, 0.1)  # fractions of the half-canvas
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid maps output coordinates to input ones, so it takes the inverse transform.
    theta = torch.stack(
        [
            torch.stack([cos / scale, (-sin + shear) / scale, shift_x], dim=1),
            torch.stack([sin / scale, cos / scale, shift_y], dim=1),
        ],
        dim=1,
    )  # (B, 2, 3)
    x = glyphs.unsqueeze(1)  # (B, 1, CANVAS, CANVAS)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, align_corners=False)
    stroke = torch.randint(0, 3, (B,), generator=generator)  # 0 thin, 1 as drawn, 2 bold
    thin = -F.max_pool2d(-x, 3, stride=1, padding=1)
    bold = F.max_pool2d(x, 3, stride=1, padding=1)
    x = torch.where((stroke == 0)[:, None, None, None], thin, torch.where((stroke == 2)[:, None, None, None], bold, x))
    x = F.avg_pool2d(x, 2)  # (B, 1, 28, 28)
    return low_resolution(x, generator).squeeze(1)


def low_resolution(x: torch.Tensor, generator: torch.Generator, fraction: float = 0.5) -> torch.Tensor:
    """Blur a random `fraction` of the images (B, 1, 28, 28) as a coarse scan would: shrink to 7-12 px and back."""
    out = x.clone()
    chosen = torch.rand(x.shape[0], generator=generator) < fraction
    sizes = torch.randint(7, 13, (x.shape[0],), generator=generator)
    for size in sizes[chosen].unique().tolist():
        rows = chosen & (sizes == size)
        small = F.interpolate(x[rows], size=(size, size), mode="area")
        out[rows] = F.interpolate(small, size=(28, 28), mode="bilinear", align_corners=False)
    return out


def generate(n_per_class: int, seed: int) -> Dataset:
    """n_per_class distorted examples of every letter, fonts drawn at random."""
    generator = torch.Generator().manual_seed(seed)
    glyphs = render_all_glyphs()  # (fonts, letters, CANVAS, CANVAS)
    num_fonts, num_letters = glyphs.shape[:2]
    labels = torch.arange(num_letters).repeat(n_per_class)
    fonts = torch.randint(0, num_fonts, (len(labels),), generator=generator)
    chunks = [
        distort(glyphs[fonts[i : i + 4096], labels[i : i + 4096]], generator) for i in range(0, len(labels), 4096)
    ]
    images = (torch.cat(chunks).clamp(0, 1) * 255).round().to(torch.uint8)
    return Dataset(images, labels, tuple(LETTERS))


def render(split: str) -> Dataset:
    """A fresh rendering of a shipped split ("train" or "test"); the lessons read data/letters/ instead."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, not {split!r}.")
    return generate(*SPLITS[split])
