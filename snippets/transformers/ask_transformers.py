"""Ask gpt-4o the source notebook's first question.

Without credentials, the recorded answer is replayed.
"""

from llmarch.llm import LLMConnector

prompt = (
    "Explain how transformers and the attention mechanism work in Large Language "
    "Models. "
    "Provide 5 real-world analogies to make it simple for non-technical readers."
)

connector = LLMConnector()  # model "gpt-4o"; see the Setup page for live calls
print(connector.get_completion(prompt))
#> Sure! Transformers and the attention mechanism are at the heart of large language models (LLMs) like GPT. Let me first explain the concepts in simple terms and then provide five real-world analogies to make it relatable.
#>
#> ### **What is a Transformer?**
#> A transformer is a type of model architecture designed to process sequences of data, like words in a sentence, efficiently. Its core innovation is the **attention mechanism**, which helps the model focus on relevant parts of the input while making predictions.
#>
#> ### **What is the Attention Mechanism?**
#> The attention mechanism is like a smart "spotlight." Instead of treating all words in a sentence equally, it decides which words or parts of a sequence are more important to pay attention to at any given moment. This helps the model understand context better, especially for long and complex sentences.
#>
#> ---
#>
#> ### **Five Real-World Analogies:**
#>
#> #### 1. **Reading with a Highlighter**
#> Imagine you're
