"""The rule catalogue (domain/rules.md). Importing this package registers every rule."""

from monitor.rules.base import DocRule, Rule, register, registry  # noqa: F401
