"""llmarch: the architecture of large language models, one small NumPy module per idea.

Every name here is used on the site *LLM Architectures, an executable guide*; each code
block there imports this package, runs, and is checked when the site builds.
"""

from llmarch.attention import MultiHeadAttention, scaled_dot_product_attention, softmax
from llmarch.layers import FeedForward, LayerNorm, gelu, gelu_tanh, relu
from llmarch.masks import causal_mask, padding_mask
from llmarch.positional import sinusoidal_positional_encoding

__version__ = "0.1.0"

__all__ = [
    "FeedForward",
    "LayerNorm",
    "MultiHeadAttention",
    "causal_mask",
    "gelu",
    "gelu_tanh",
    "padding_mask",
    "relu",
    "scaled_dot_product_attention",
    "sinusoidal_positional_encoding",
    "softmax",
]
