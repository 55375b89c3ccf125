r"""GPT: the decoder-only transformer as GPT-2 builds it (Radford et al. 2019).

A GPT is the decoder of the encoder-decoder transformer without the cross-attention: a
stack of pre-LN blocks of causal self-attention and feed-forward, between a token plus
learned position embedding and an output layer that reuses the token embedding:

$$x_0 = E[\text{ids}] + P[0..n), \qquad x_{l+1} = \mathrm{Block}_l(x_l), \qquad
\text{logits} = \mathrm{LN}_f(x_L)\, E^\top$$

It is trained to predict the next token, and it writes text by doing so again and again:
pick a token from the last row of the logits, append it, repeat. It is the
[`Decoder`][llmarch.Decoder] with GPT-2's choices, and loads a Hugging Face GPT-2
checkpoint directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmarch.decoder import Decoder

__all__ = ["GPT"]


@dataclass
class GPT(Decoder):
    r"""A [`Decoder`][llmarch.Decoder] of the GPT-2 family, configured by a [`GPTConfig`][llmarch.GPTConfig].

    $$x_0 = E[\text{ids}] + P[0..n), \qquad x_{l+1} = \mathrm{Block}_l(x_l), \qquad
    \text{logits} = \mathrm{LN}_f(x_L)\, E^\top$$

    LayerNorm, a GELU MLP, learned positions and an output layer tied to the token
    embedding, laid out exactly like GPT-2, so the model has exactly
    [`count_parameters(config)`][llmarch.count_parameters] parameters and reads Hugging
    Face GPT-2 checkpoints (``GPT2Model`` names, or ``GPT2LMHeadModel``'s with the
    ``transformer.`` prefix). Everything else is the Decoder's: there is one forward pass
    in the package.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.config.family != "gpt2":
            raise ValueError(f"config must describe GPT-2 (family 'gpt2'); got family {self.config.family!r}")
