"""What LLMConnector().check() reports once Azure OpenAI is configured.

The settings below are placeholders, not a real key: check() only reads the
environment (it never prints a key's value) and makes no network call.
"""

import os

from llmarch.llm import LLMConnector

os.environ.update(
    {
        "AZURE_OPENAI_API_KEY": "placeholder-not-a-real-key",
        "AZURE_OPENAI_ENDPOINT": "https://my-resource.openai.azure.com",
        "OPENAI_API_VERSION": "2024-10-21",
        "AZURE_OPENAI_DEPLOYMENT": "gpt-4o",
    }
)
for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "LLMARCH_LLM_MODE"):
    os.environ.pop(name, None)  # Azure only, and the default mode

report = LLMConnector().check()
# The first 11 lines; the last three name this machine's openai SDK and folders.
print("\n".join(str(report).splitlines()[:11]))
#> LLM configuration check
#>   mode        auto (the default; LLMARCH_LLM_MODE is not set)
#>   Azure OpenAI
#>     AZURE_OPENAI_API_KEY     found
#>     AZURE_OPENAI_ENDPOINT    found
#>     OPENAI_API_VERSION       found
#>     AZURE_OPENAI_DEPLOYMENT  found
#>   OpenAI or a compatible server
#>     OPENAI_API_KEY           not set
#>     OPENAI_BASE_URL          not set
#>   provider    Azure OpenAI (deployment gpt-4o)
