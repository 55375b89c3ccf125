"""Ask gpt-4o the source notebook's second question.

Without credentials, the recorded answer is replayed.
"""

import textwrap

from llmarch.llm import LLMConnector

prompt = (
    "List and explain the key components of transformer architecture used in Large "
    "Language Models. "
    "Provide 5 real-world analogies to make each concept relatable."
)

connector = LLMConnector()  # model "gpt-4o"; see the Setup page for live calls
answer = connector.get_completion(prompt)

# The start of the answer, wrapped to fit; the box below shows all of it, formatted.
print(textwrap.fill(answer.split("\n\n")[0], width=80))
#> The Transformer architecture is a powerful framework for building large language
#> models (LLMs) like OpenAI's GPT series. It consists of several key components,
#> each playing a unique role in enabling the model to process and generate
#> language. Here’s a breakdown of the key components, along with relatable real-
#> world analogies to help clarify their functions:
print(f"... {len(answer)} characters in all")
#> ... 958 characters in all
