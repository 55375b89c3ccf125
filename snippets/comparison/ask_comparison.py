"""Ask gpt-4o the source notebook's third question.

Without credentials, the recorded answer is replayed.
"""

from llmarch.llm import LLMConnector

prompt = (
    "Compare transformers with RNNs and LSTMs in a detailed tabular format. "
    "Include real-world analogies for each row."
)

connector = LLMConnector()  # model "gpt-4o"; see the Setup page for live calls
print(connector.get_completion(prompt))
#> Below is a detailed comparison between Transformers, RNNs, and LSTMs presented in a tabular format, with real-world analogies to make each concept more relatable.
#>
#> | **Aspect**                     | **Transformers**                                                                                     | **RNNs**                                                                                                           | **LSTMs**                                                                                                          | **Real-World Analogy**                                                                                                   |
#> |---------------------------------|-----------------------------------------------------------------------------------------------------|--------------------------------------------------------------------------------------------------------------------|-----------------------------------------------------
