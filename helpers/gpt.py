"""A tiny GPT, read top to bottom: characters in, a guess at the next character out.

The same design as nanoGPT (Karpathy) and GPT-2, at the size of the small CPU configuration in
nanoGPT's README (4 layers, 4 heads, width 128, context 64):
token and position embeddings, a stack of blocks (causal self-attention, then an MLP, each
behind a LayerNorm and added back to its input), a last LayerNorm, and a linear head that
scores every character of the alphabet. Shapes are commented as (B, T, C): batch, time
(position in the context), channels (the width).

For classification the language-model head is set aside and `features` gives one vector per
text: the final hidden states averaged over the positions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from helpers.text import VOCAB_SIZE


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = VOCAB_SIZE  # 96 characters
    context: int = 64  # the longest text the model reads at once
    layers: int = 4
    heads: int = 4
    width: int = 128  # channels per position; each head gets width // heads

    def as_dict(self) -> dict:
        return asdict(self)


class CausalSelfAttention(nn.Module):
    """Each position mixes in the positions before it, weighted by how well its query matches their keys."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        if config.width % config.heads:
            raise ValueError(f"width {config.width} must divide evenly among {config.heads} heads")
        self.heads = config.heads
        self.qkv = nn.Linear(config.width, 3 * config.width)  # queries, keys and values in one matmul
        self.proj = nn.Linear(config.width, config.width)  # the heads' outputs mixed back together

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # each (B, T, C)
        # (B, T, C) -> (B, heads, T, C // heads): each head attends on its own slice of the channels
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        # softmax(q k^T / sqrt(d)) v, with position t allowed to look only at positions <= t
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, heads, T, C // heads)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # the heads side by side again
        return self.proj(y)  # (B, T, C)


class MLP(nn.Module):
    """Per position: widen four times, GELU, narrow back."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.up = nn.Linear(config.width, 4 * config.width)
        self.down = nn.Linear(4 * config.width, config.width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))  # (B, T, C) -> (B, T, 4C) -> (B, T, C)


class Block(nn.Module):
    """Attention (positions talk to each other), then an MLP (each position thinks on its own)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.width)
        self.attn = CausalSelfAttention(config)
        self.ln2 = nn.LayerNorm(config.width)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))  # residual connections: each block adds to what came in
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig = GPTConfig()) -> None:
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.width)  # one vector per character
        self.position_embedding = nn.Embedding(config.context, config.width)  # one vector per position
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.ln_f = nn.LayerNorm(config.width)
        self.lm_head = nn.Linear(config.width, config.vocab_size, bias=False)  # a score for every next character
        self.apply(_init_weights)

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, T, C) final hidden states."""
        B, T = tokens.shape
        if T > self.config.context:
            raise ValueError(f"{T} tokens is longer than the model's context of {self.config.context}")
        positions = torch.arange(T, device=tokens.device)  # (T,)
        x = self.token_embedding(tokens) + self.position_embedding(positions)  # (B, T, C)
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        return self.ln_f(x)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids -> (B, T, vocab) logits: at each position, scores for the next character."""
        return self.lm_head(self.hidden(tokens))

    def features(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T) -> (B, C): one vector per text, its hidden states averaged over the positions."""
        return self.hidden(tokens).mean(dim=1)


def _init_weights(module: nn.Module) -> None:
    # GPT-2's initialisation: small normal weights, zero biases.
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def make_gpt(config: GPTConfig = GPTConfig(), seed: int = 0) -> GPT:
    """A freshly initialised GPT; the same seed gives the same weights."""
    torch.manual_seed(seed)
    return GPT(config)


@torch.no_grad()
def generate(
    model: GPT, prompt: torch.Tensor, new_tokens: int, temperature: float = 0.8, seed: int = 0
) -> torch.Tensor:
    """Continue a (T,) prompt by sampling `new_tokens` characters, one at a time; seeded, so repeatable."""
    if temperature <= 0:
        raise ValueError(f"temperature must be above 0 (got {temperature}); lower means more cautious samples")
    if len(prompt) == 0:
        raise ValueError("the prompt is empty: give at least one character, e.g. text.encode('\\n')")
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    tokens = prompt.clone()
    for _ in range(new_tokens):
        logits = model(tokens[-model.config.context :].unsqueeze(0))[0, -1]  # (vocab,): scores for what comes next
        probabilities = torch.softmax(logits / temperature, dim=-1)
        tokens = torch.cat([tokens, torch.multinomial(probabilities, 1, generator=generator)])
    model.train(was_training)
    return tokens


def flops_per_token(config: GPTConfig, context: int | None = None) -> dict[str, int]:
    """Multiply-adds x 2 of one forward pass, per token, counted by hand (the backward pass costs about twice this).

    Per block: the four width x width matmuls of attention (q, k, v, projection) and the two
    width x 4 width matmuls of the MLP = 12 width^2 multiply-adds; attention scores and their
    weighted sum add 2 x context x width (counting the whole T x T square, as PyTorch computes it).
    """
    context = context or config.context
    matmuls = 12 * config.width**2 * config.layers
    attention = 2 * context * config.width * config.layers
    head = config.width * config.vocab_size
    forward = 2 * (matmuls + attention + head)
    return {"forward": forward, "train": 3 * forward}


def perplexity(loss: float) -> float:
    """exp(loss): the number of equally likely characters the model is, on average, choosing among."""
    return math.exp(loss)
