"""The errors of ``llmarch.llm``: each message says what went wrong and what to do about it.

Every message is safe to print: none holds a credential (the connector redacts anything the
SDK or a server echoes back). The CLI prints the message alone, without a traceback.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class: anything ``llmarch.llm`` reports to a user."""


class RecordingMissingError(LLMError):
    """A prompt has no recorded answer, and the mode makes no live call for it."""


class RecordingCorruptError(LLMError):
    """A recording file cannot be read, or its content does not match its name and checksum."""


class ConfigurationError(LLMError):
    """Credentials, mode or parameters are missing or invalid."""


class LiveCallError(LLMError):
    """A live call failed after the SDK's own retries."""


class SitePromptError(LLMError):
    """A snippet asks a prompt that cannot be read statically from its source."""
