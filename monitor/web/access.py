"""Who may do what on the web pages.

- A client on the loopback interface (127.0.0.1, ::1) reads without logging in.
- Any other client needs the read token (`settings.web.token`, from `NIANBAO_WEB_TOKEN` or
  `NIANBAO_WEB_TOKEN_FILE`, see monitor.config): as `Authorization: Bearer …`, or once on the
  login form, which sets a session cookie. Without a configured token, such clients are refused.
- The one write action (a recrawl request) needs the admin token (`settings.web.admin_token`, from
  `NIANBAO_WEB_ADMIN_TOKEN` or `…_FILE`), on loopback too; without one configured the action is
  not offered.

The cookie holds the role and an HMAC keyed by the token, never the token: changing a token ends
every session made with it. Tokens are kept out of `repr()` and never logged. Forms carry a CSRF
token (double submit: a random cookie and the same value in a hidden field) and a POST whose
Origin names another host is refused.

Behind a reverse proxy on the same machine every client looks local: give the proxy its own
authentication, or bind the proxy to loopback only.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from typing import Any

SESSION_COOKIE = "nianbao_session"
CSRF_COOKIE = "nianbao_csrf"
CSRF_FIELD = "csrf"
ROLES = ("read", "admin")
TOKEN_MAX = 1024  # a presented token longer than this is refused unread


def _plain(secret: Any) -> str | None:
    """A `SecretStr`'s value (None and "" give None)."""
    return (secret.get_secret_value() or None) if secret is not None else None


@dataclass(frozen=True, slots=True)
class Access:
    token: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Any) -> Access:
        """The tokens of `settings.web` (monitor.config.WebSettings); none when it has no `web`."""
        web = getattr(settings, "web", None)
        return cls(token=_plain(getattr(web, "token", None)), admin_token=_plain(getattr(web, "admin_token", None)))

    @property
    def remote_allowed(self) -> bool:
        return bool(self.token or self.admin_token)

    @property
    def admin_enabled(self) -> bool:
        return bool(self.admin_token)

    def role_of_token(self, presented: str | None) -> str | None:
        """The role a presented token gives (admin covers read), or None."""
        if not presented or len(presented) > TOKEN_MAX:
            return None
        if self.admin_token and hmac.compare_digest(presented.encode(), self.admin_token.encode()):
            return "admin"
        if self.token and hmac.compare_digest(presented.encode(), self.token.encode()):
            return "read"
        return None

    def _sign(self, role: str) -> str | None:
        key = self.admin_token if role == "admin" else self.token
        if not key:
            return None
        return hmac.new(key.encode(), f"nianbao-web:{role}".encode(), hashlib.sha256).hexdigest()

    def session_cookie(self, role: str) -> str:
        sig = self._sign(role)
        assert sig is not None, "a session is made only for a configured token"
        return f"{role}.{sig}"

    def role_of_cookie(self, value: str | None) -> str | None:
        if not value or len(value) > 200 or "." not in value:
            return None
        role, sig = value.split(".", 1)
        expected = self._sign(role) if role in ROLES else None
        return role if expected and hmac.compare_digest(sig.encode(), expected.encode()) else None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_csrf() -> str:
    return secrets.token_hex(16)


def csrf_ok(cookie: str | None, submitted: Any) -> bool:
    return bool(cookie) and isinstance(submitted, str) and len(submitted) < 100 \
        and hmac.compare_digest(cookie.encode(), submitted.encode())  # type: ignore[union-attr]


__all__ = ["Access", "is_loopback", "new_csrf", "csrf_ok", "SESSION_COOKIE", "CSRF_COOKIE", "CSRF_FIELD"]
