"""`nianbao serve`: the status web pages (monitor.web) on one HTTP port."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from monitor.errors import ConfigError

log = logging.getLogger(__name__)


def serve(host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port")] = 8080) -> None:
    """The status web pages: counties, status grid, reports, findings, crawl runs (read-only on
    127.0.0.1; other addresses need NIANBAO_WEB_TOKEN)."""
    import uvicorn

    from monitor.commands.store import _clock, _open, _settings
    from monitor.web import create_app
    from monitor.web.access import Access, is_loopback

    settings = _settings()
    access = Access.from_settings(settings)
    if not is_loopback(host) and host != "localhost" and not access.remote_allowed:
        raise ConfigError(f"listening on {host} needs a token: set NIANBAO_WEB_TOKEN (or NIANBAO_WEB_TOKEN_FILE)",
                          source="nianbao serve --host")
    app = create_app(settings, _clock(), session_factory=_open(settings))
    typer.echo(f"年报监测网页：http://{host if ':' not in host else f'[{host}]'}:{port}/ （Ctrl+C 停止）")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


def register(app: typer.Typer) -> None:
    app.command()(serve)
