"""The monitor's exceptions.

    NianbaoError
     ├── ExtractError        bytes could not be turned into a Document (unreadable, encrypted, too big…)
     │    └── TooLargeError  refused by the size limit before reading
     ├── ProfileError        a county profile (counties/*.toml) is invalid
     └── ConfigError         nianbao.toml / NIANBAO_* settings are invalid

Every error carries the file or URL it is about and says what to do.
"""

from __future__ import annotations

__all__ = ["NianbaoError", "ExtractError", "TooLargeError", "ProfileError", "ConfigError"]


class NianbaoError(Exception):
    """Base of every error nianbao raises on purpose."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class ExtractError(NianbaoError):
    """The document's bytes could not be read at all."""


class TooLargeError(ExtractError):
    """The document is larger than the configured size limit."""


class ProfileError(NianbaoError):
    """A county profile is invalid (file, line, what is wrong)."""


class ConfigError(NianbaoError):
    """The configuration is invalid."""
