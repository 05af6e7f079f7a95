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



_STATE = {"debug": False}


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="出错时显示完整的错误堆栈，并输出调试日志")) -> None:
    """nianbao — 政府信息公开工作年度报告监测。出错时加 --debug 查看详细信息。"""
    _STATE["debug"] = debug
    logging.getLogger().setLevel(logging.DEBUG if debug else logging.WARNING)


COMMAND_MODULES = ("check", "store", "crawl", "demo", "notify", "review", "serve", "daemon", "rules")

for _name in COMMAND_MODULES:
    importlib.import_module(f"monitor.commands.{_name}").register(app)


def _database_error(exc: BaseException) -> str | None:
    """One line for a database or driver error (no server, bad URL, missing driver, schema…), or
    None when `exc` is something else. SQLAlchemy is looked at only when it was loaded."""
    from_db = type(exc).__module__.split(".")[0] in ("sqlalchemy", "psycopg", "sqlite3", "storage")
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import SQLAlchemyError

        from_db = from_db or isinstance(exc, SQLAlchemyError)
    if not from_db:
        return None
    if type(exc).__name__ == "DatabaseError" and type(exc).__module__ == "storage.db":
        return f"数据库: {exc}"
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return f"数据库错误: {type(orig or exc).__name__}: {text[0] if text else ''}"


def main() -> None:
    # `--debug` is an option of the root command (shown by --help); it is also accepted after
    # the command's name, as before.
    argv = sys.argv[1:]
    if "--debug" in argv[1:] and argv[0] != "--debug":
        argv = ["--debug", *(a for a in argv if a != "--debug")]
    debug = "--debug" in argv
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s %(message)s")
    try:
        app(args=argv, prog_name="nianbao")
    except NianbaoError as exc:
        if debug or _STATE["debug"]:
            raise
        typer.secho(f"错误: {exc}", fg="red", err=True)
        sys.exit(2)
    except Exception as exc:
        line = _database_error(exc)
        if line is None or debug or _STATE["debug"]:
            raise
        typer.secho(f"错误: {line}", fg="red", err=True)
        sys.exit(2)
