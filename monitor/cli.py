"""The `nianbao` command line. Each group of commands lives in monitor/commands/<name>.py and
exposes `register(app)`; this module only assembles them and turns errors into one line."""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from monitor.errors import NianbaoError

app = typer.Typer(help="nianbao — 政府信息公开工作年度报告监测", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)



@app.callback()
def _root() -> None:
    """nianbao — 政府信息公开工作年度报告监测。出错时加 --debug 查看详细信息。"""


COMMAND_MODULES = ("check", "store", "crawl", "demo", "rules")

for _name in COMMAND_MODULES:
    importlib.import_module(f"monitor.commands.{_name}").register(app)


def main() -> None:
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s %(message)s")
    try:
        app()
    except NianbaoError as exc:
        if debug:
            raise
        typer.secho(f"错误: {exc}", fg="red", err=True)
        sys.exit(2)
