"""Ask gpt-4o the source notebook's third question.

Without credentials, the recorded answer is replayed.
"""

import textwrap

from llmarch.llm import LLMConnector

prompt = (
    "Compare transformers with RNNs and LSTMs in a detailed tabular format. "
    "Include real-world analogies for each row."
)

connector = LLMConnector()  # model "gpt-4o"; see the Setup page for live calls
answer = connector.get_completion(prompt)

# The start of the answer, wrapped to fit; the box below shows all of it, formatted.
print(textwrap.fill(answer.split("\n\n")[0], width=80))
#> Below is a detailed comparison between Transformers, RNNs, and LSTMs presented
#> in a tabular format, with real-world analogies to make each concept more
#> relatable.
print(f"... {len(answer)} characters in all")
#> ... 966 characters in all
