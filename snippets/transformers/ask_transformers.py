"""Ask gpt-4o the source notebook's first question.

Without credentials, the recorded answer is replayed.
"""

import textwrap

from llmarch.llm import LLMConnector

prompt = (
    "Explain how transformers and the attention mechanism work in Large Language "
    "Models. "
    "Provide 5 real-world analogies to make it simple for non-technical readers."
)

connector = LLMConnector()  # model "gpt-4o"; see the Setup page for live calls
answer = connector.get_completion(prompt)

# The start of the answer, wrapped to fit; the box below shows all of it, formatted.
print(textwrap.fill(answer.split("\n\n")[0], width=80))
#> Sure! Transformers and the attention mechanism are at the heart of large
#> language models (LLMs) like GPT. Let me first explain the concepts in simple
#> terms and then provide five real-world analogies to make it relatable.
print(f"... {len(answer)} characters in all")
#> ... 955 characters in all
