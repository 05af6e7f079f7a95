"""The bot token never reaches a log line or an error message.

`redact(text, token)` hides it in a string; `install_log_redaction(token)` puts a filter on every
handler of the root logger that hides it in every record, and quiets httpx's request log (which
prints URLs, and Telegram's URLs carry the token).
"""

from __future__ import annotations

import logging

MASK = "<token>"


def redact(text: object, token: str | None) -> str:
    s = str(text)
    if token:
        s = s.replace(token, MASK)
        bot_id, _, secret = token.partition(":")
        if secret and len(secret) >= 8:
            s = s.replace(secret, MASK)
    return s


class RedactingFilter(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logged as it is
            return True
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            msg += "\n" + "".join(traceback.format_exception(*record.exc_info))
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = redact(msg, self.token), None
        return True


def install_log_redaction(token: str | None) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    if not token:
        return
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig()
    for h in root.handlers:
        if not any(isinstance(f, RedactingFilter) and f.token == token for f in h.filters):
            h.addFilter(RedactingFilter(token))
