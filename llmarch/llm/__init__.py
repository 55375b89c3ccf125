"""Ask a chat model through ``LLMConnector``; answers are recorded once and replayed from files.

>>> from llmarch.llm import LLMConnector
>>> connector = LLMConnector()            # model "gpt-4o"; mode from LLMARCH_LLM_MODE (default auto)
>>> print(connector.check())              # doctest: +SKIP

Replaying a recorded answer needs only this package: the ``openai`` SDK (extra
``llmarch[llm]``) is imported only when a live call is made. The command-line tool is
``llmarch`` (``check``, ``ask``, ``record``, ``recordings verify``).
"""

from llmarch.llm.connector import MODES, CheckReport, Completion, LLMConnector
from llmarch.llm.errors import (
    ConfigurationError,
    LiveCallError,
    LLMError,
    RecordingCorruptError,
    RecordingMissingError,
    SitePromptError,
)
from llmarch.llm.recordings import Recording, RecordingStore, canonical_request, request_key

__all__ = [
    "MODES",
    "CheckReport",
    "Completion",
    "ConfigurationError",
    "LLMConnector",
    "LLMError",
    "LiveCallError",
    "Recording",
    "RecordingCorruptError",
    "RecordingMissingError",
    "RecordingStore",
    "SitePromptError",
    "canonical_request",
    "request_key",
]
