"""Ask gpt-4o the source notebook's second question.

Without credentials, the recorded answer is replayed.
"""

from llmarch.llm import LLMConnector

prompt = (
    "List and explain the key components of transformer architecture used in Large "
    "Language Models. "
    "Provide 5 real-world analogies to make each concept relatable."
)

connector = LLMConnector()  # model "gpt-4o"; see the Setup page for live calls
print(connector.get_completion(prompt))
#> The Transformer architecture is a powerful framework for building large language models (LLMs) like OpenAI's GPT series. It consists of several key components, each playing a unique role in enabling the model to process and generate language. Here’s a breakdown of the key components, along with relatable real-world analogies to help clarify their functions:
#>
#> ---
#>
#> ### 1. **Self-Attention Mechanism**
#>    **What it does:**
#>    The self-attention mechanism allows the model to focus on different parts of the input (e.g., words in a sentence) depending on their relevance to understanding the context. It computes relationships between words at every position to determine how much attention each word deserves.
#>
#>    **Analogy:**
#>    - **Spotlight at a concert:** Imagine you're at a concert with multiple performers on stage. The spotlight moves dynamically to highlight the performer who’s most relevant at any given moment, ensuring that the audience focu
