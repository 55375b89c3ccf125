"""llmarch: the architecture of large language models, one small NumPy module per idea.

Every name here is used on the site *LLM Architectures, an executable guide*; each code
block there imports this package, runs, and is checked when the site builds.
"""

from llmarch.attention import KVCache, MultiHeadAttention, scaled_dot_product_attention, softmax
from llmarch.config import GPTConfig
from llmarch.convolution import Conv1D
from llmarch.embedding import CharTokenizer, TokenEmbedding
from llmarch.gpt import GPT, GPTBlock, sample_next_token
from llmarch.layers import FeedForward, LayerNorm, gelu, gelu_tanh, relu
from llmarch.masks import causal_mask, padding_mask
from llmarch.positional import LearnedPositionalEmbedding, rotary_embedding, sinusoidal_positional_encoding
from llmarch.recurrent import LSTM, RNN
from llmarch.residual import post_ln_residual, pre_ln_residual
from llmarch.sizing import count_parameters, parameter_breakdown
from llmarch.sliding_window import SlidingWindowAttention
from llmarch.tiling import tiled_attention
from llmarch.transformer import DecoderLayer, EncoderLayer, Transformer, TransformerConfig

__version__ = "0.1.0"

__all__ = [
    "GPT",
    "LSTM",
    "RNN",
    "CharTokenizer",
    "Conv1D",
    "DecoderLayer",
    "EncoderLayer",
    "FeedForward",
    "GPTBlock",
    "GPTConfig",
    "KVCache",
    "LayerNorm",
    "LearnedPositionalEmbedding",
    "MultiHeadAttention",
    "SlidingWindowAttention",
    "TokenEmbedding",
    "Transformer",
    "TransformerConfig",
    "causal_mask",
    "count_parameters",
    "gelu",
    "gelu_tanh",
    "padding_mask",
    "parameter_breakdown",
    "post_ln_residual",
    "pre_ln_residual",
    "relu",
    "rotary_embedding",
    "sample_next_token",
    "scaled_dot_product_attention",
    "sinusoidal_positional_encoding",
    "softmax",
    "tiled_attention",
]
