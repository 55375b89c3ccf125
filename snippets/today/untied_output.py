"""Tied or untied output layer: what reusing the embedding saves, model by model."""

from llmarch import DecoderConfig, count_parameters, parameter_breakdown

for name in ("gpt2", "llama-3.2-1b", "qwen3-0.6b", "llama-3.1-8b", "qwen3-8b"):
    config = DecoderConfig.preset(name)
    table = parameter_breakdown(config)["token_embedding"]
    total = count_parameters(config)
    if config.tie_embeddings:
        print(f"{name:<13} tied:   saves {table / 1e6:>4,.0f}M,"
              f" {table / (total + table):.0%} of the untied size")
        #> gpt2          tied:   saves   39M, 24% of the untied size
        #> llama-3.2-1b  tied:   saves  263M, 18% of the untied size
        #> qwen3-0.6b    tied:   saves  156M, 21% of the untied size
    else:
        print(f"{name:<13} untied: adds  {table / 1e6:>4,.0f}M,"
              f" {table / total:.0%} of the model")
        #> llama-3.1-8b  untied: adds   525M, 7% of the model
        #> qwen3-8b      untied: adds   622M, 8% of the model
