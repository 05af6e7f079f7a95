"""The status web pages (`nianbao serve`): an interfaces-floor package over monitor.status.
`create_app(settings, clock)` returns the ASGI app; templates and the stylesheet are package data."""

from monitor.web.app import create_app

__all__ = ["create_app"]
