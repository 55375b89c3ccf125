"""llmarch: the architecture of large language models, one small NumPy module per idea.

Every name here is used on the site *LLM Architectures, an executable guide*; each code
block there imports this package, runs, and is checked when the site builds.
"""

from llmarch.attention import KVCache, MultiHeadAttention, scaled_dot_product_attention, softmax
from llmarch.config import DecoderConfig, GPTConfig, RopeScaling
from llmarch.convolution import Conv1D
from llmarch.decoder import Decoder, DecoderBlock, decoder_mask, parameter_shapes
from llmarch.embedding import CharTokenizer, TokenEmbedding
from llmarch.gpt import GPT
from llmarch.latent_attention import LatentAttention, LatentCache
from llmarch.layers import FeedForward, LayerNorm, RMSNorm, SwiGLU, gelu, gelu_tanh, relu, silu
from llmarch.masks import causal_mask, padding_mask
from llmarch.moe import MixtureOfExperts, Router, Routing
from llmarch.positional import (
    LearnedPositionalEmbedding,
    rotary_embedding,
    rotary_frequencies,
    sinusoidal_positional_encoding,
)
from llmarch.recurrent import LSTM, RNN
from llmarch.residual import post_ln_residual, pre_ln_residual
from llmarch.sampling import sample_next_token
from llmarch.sizing import count_parameters, kv_cache_bytes, parameter_breakdown
from llmarch.sliding_window import SlidingWindowAttention
from llmarch.tape import Tape
from llmarch.tiling import tiled_attention
from llmarch.transformer import DecoderLayer, EncoderLayer, Transformer, TransformerConfig

__version__ = "0.1.0"

__all__ = [
    "GPT",
    "LSTM",
    "RNN",
    "CharTokenizer",
    "Conv1D",
    "Decoder",
    "DecoderBlock",
    "DecoderConfig",
    "DecoderLayer",
    "EncoderLayer",
    "FeedForward",
    "GPTConfig",
    "KVCache",
    "LatentAttention",
    "LatentCache",
    "LayerNorm",
    "LearnedPositionalEmbedding",
    "MixtureOfExperts",
    "MultiHeadAttention",
    "RMSNorm",
    "RopeScaling",
    "Router",
    "Routing",
    "SlidingWindowAttention",
    "SwiGLU",
    "Tape",
    "TokenEmbedding",
    "Transformer",
    "TransformerConfig",
    "causal_mask",
    "count_parameters",
    "decoder_mask",
    "gelu",
    "gelu_tanh",
    "kv_cache_bytes",
    "padding_mask",
    "parameter_breakdown",
    "parameter_shapes",
    "post_ln_residual",
    "pre_ln_residual",
    "relu",
    "rotary_embedding",
    "rotary_frequencies",
    "sample_next_token",
    "scaled_dot_product_attention",
    "silu",
    "sinusoidal_positional_encoding",
    "softmax",
    "tiled_attention",
]
