"""The ``gannet`` command: global options, the command groups, and error handling.

Every command is a thin face over a service call. The services are built on first use,
once per invocation, by ``CliState`` (``ctx.obj``) from the global options; a command
that needs no store (``--help``, ``info``) never opens one. Heavy imports (SQLAlchemy
through ``gannet.bootstrap``) happen inside commands, so ``gannet --help`` stays fast; and
``main`` builds only the command a line runs (``COMMANDS``), importing its module alone.

A failing command prints ``Error: <message>`` and ``  hint: <hint>`` on stderr (with
``--json``: ``{"error": {"code", "message", "hint"}}`` on stdout) and exits with its
error's exit code (``gannet.core.errors.ExitCode``: usage 2, invalid argument 3, not found
4, conflict 5, permission 6, integrity 7, unavailable 8, anything else 1), never with a
traceback unless ``--debug`` is given. docs/errors.md has the whole table.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from gannet.cli import output
from gannet.core.errors import GannetError

if TYPE_CHECKING:
    from gannet.bootstrap import Services
    from gannet.core.settings import Settings
    from gannet.tracking.service import TrackingService


class CliState:
    """What one invocation shares: the global options, and settings/services made lazily."""

    def __init__(
        self,
        home: Path | None,
        metadata_url: str | None,
        artifacts_url: str | None,
        *,
        debug: bool = False,
    ) -> None:
        self.debug = debug
        self.arguments: dict[str, Any] = {
            name: value
            for name, value in (
                ("home", home),
                ("metadata_url", metadata_url),
                ("artifacts_url", artifacts_url),
            )
            if value is not None
        }
        self._settings: Settings | None = None
        self._services: Services | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from gannet.core.settings import Settings

            self._settings = Settings.load(**self.arguments)
        return self._settings

    @property
    def services(self) -> Services:
        """The stores and services (opening, and migrating, the metadata store)."""
        if self._services is None:
            from gannet.bootstrap import build

            self._services = build(self.settings)
        return self._services

    @property
    def tracking(self) -> TrackingService:
        return self.services.tracking

    def close(self) -> None:
        if self._services is not None:
            self._services.close()
            self._services = None


class GannetGroup(TyperGroup):
    """The top-level group: turns any error of a command into its message and exit code."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta["gannet.args"] = list(args)  # to tell, after a failure, whether --json was asked
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except GannetError as error:
            self._fail(ctx, error)
        except _CLICKS_OWN:  # usage errors, exits: click's own
            raise
        except BrokenPipeError:  # `gannet runs list | head`: the reader has all it wanted
            _quiet_stdout()
            raise typer.Exit(141) from None  # 128 + SIGPIPE, as a shell pipeline reports it
        except Exception as exc:
            if _debug(ctx):
                raise
            self._fail(ctx, _internal(exc))

    @staticmethod
    def _fail(ctx: typer.Context, error: GannetError) -> NoReturn:
        if _debug(ctx):
            import traceback

            traceback.print_exception(error, file=sys.stderr)
        if "--json" in ctx.meta.get("gannet.args", ()):
            output.print_json({"error": error.to_dict()})
        else:
            output.print_error(error)
        raise typer.Exit(int(error.exit_code)) from None


# click's own errors (usage mistakes print usage and exit 2): the bases of BadParameter,
# which typer exports in every version while the module holding them moves.
_CLICKS_OWN: tuple[type[BaseException], ...] = (
    *(c for c in typer.BadParameter.__mro__ if c.__name__ in ("ClickException", "TyperException")),
    typer.Exit,
    typer.Abort,
)


def _debug(ctx: typer.Context) -> bool:
    state = ctx.obj
    return bool(getattr(state, "debug", False))


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit raises no second BrokenPipeError."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _internal(exc: Exception) -> GannetError:
    """What the user sees of an error Gannet did not expect (a bug)."""
    return GannetError(
        f"{type(exc).__name__}: {exc}",
        "this is a bug in Gannet: run the command again with --debug for the traceback, "
        "and report it",
    )


def _version(value: bool) -> None:
    if value:
        from gannet.core.version import VERSION as __version__

        typer.echo(f"gannet {__version__}")
        raise typer.Exit()


def _global_options(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Gannet home folder (default: GANNET_HOME, gannet.toml's "
            "folder/.gannet, or ~/.gannet).",
            show_default=False,
        ),
    ] = None,
    metadata_url: Annotated[
        str | None,
        typer.Option(
            "--metadata-url",
            metavar="URL",
            help="Metadata store: sqlite:///path or postgresql://...",
            show_default=False,
        ),
    ] = None,
    artifacts_url: Annotated[
        str | None,
        typer.Option(
            "--artifacts-url",
            metavar="URL",
            help="Artifact store: a folder or any fsspec URL (s3://bucket/prefix).",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print Gannet's version and exit."
        ),
    ] = False,
) -> None:
    state = CliState(home, metadata_url, artifacts_url, debug=debug)
    ctx.obj = state
    ctx.call_on_close(state.close)


def info(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Where the home, metadata store and artifact store are, and where each setting came from."""
    settings = ctx.obj.settings
    rows = [
        (name, _shown(name, getattr(settings, name)), settings.sources.get(name, "default"))
        for name in settings.sources
    ]
    config = str(settings.config_file) if settings.config_file else None
    if as_json:
        output.print_json(
            {
                "config_file": config,
                "settings": {name: {"value": value, "source": src} for name, value, src in rows},
            }
        )
        return
    grid = output.table("Setting", "Value", "Source", title="Gannet settings")
    for name, value, source in rows:
        grid.add_row(output.text(name, "bold"), output.text(value), output.text(source, "dim"))
    output.show(grid)
    output.say(f"config file: {config or 'none found'}")


_SECRETS = ("token", "oidc_client_secret")


def _shown(name: str, value: object) -> object:
    """A setting's value as shown: Paths as text, secrets and passwords in URLs hidden."""
    if isinstance(value, Path):
        return str(value)
    if name in _SECRETS and value:
        return "***"
    if name.endswith("_url") and isinstance(value, str):
        return _hide_password(value)
    return value


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


# (kind, name, module under gannet.cli, attribute): each command group and command, in the
# order ``gannet --help`` lists them. A module is imported only when its command is built.
COMMANDS: list[tuple[str, str, str, str]] = [
    ("group", "experiments", "experiments", "app"),
    ("group", "runs", "runs", "app"),
    ("group", "artifacts", "artifacts", "app"),
    ("group", "db", "db", "app"),
    ("group", "data", "data", "app"),
    ("group", "features", "features", "app"),
    ("command", "lineage", "data", "lineage"),
    ("group", "models", "models", "app"),
    ("group", "keys", "security", "keys"),
    ("group", "roles", "security", "roles"),
    ("command", "audit", "security", "audit"),
    ("group", "users", "people", "users"),
    ("group", "tokens", "people", "tokens"),
    ("group", "projects", "people", "projects"),
    ("command", "gc", "gc", "gc"),
    ("command", "scheduler", "schedules", "scheduler"),
    ("command", "init", "pipelines", "init"),
    ("command", "sweep", "pipelines", "sweep"),
    ("command", "server", "server", "server"),
    ("command", "ui", "ui", "ui"),
    ("command", "login", "login", "login"),
    ("command", "logout", "login", "logout"),
    ("group", "deployments", "deployments", "app"),
    ("group", "logs", "inference", "logs"),
    ("group", "import", "imports", "app"),
    ("group", "pipeline", "pipelines", "app"),
    ("group", "schedule", "schedules", "app"),
    ("group", "monitor", "monitor", "app"),
    ("group", "alerts", "alerts", "app"),
    ("group", "policy", "policies", "app"),
    ("command", "controller", "policies", "controller"),
    ("command", "serve", "serve", "serve"),
    ("command", "predict", "inference", "predict"),
]
# modules that add commands to another's group when imported
EXTENDS = {"models": ["responsible"]}
# global options that take a value (what comes before the command's name)
_VALUED = ("--home", "--metadata-url", "--artifacts-url")


def build(only: str | None = None) -> typer.Typer:
    """The ``gannet`` command with every group and command, or with ``only`` the one
    named (all a single invocation needs: its modules alone are imported)."""
    from importlib import import_module

    built = typer.Typer(
        name="gannet",
        cls=GannetGroup,
        help="Gannet: track, register, serve and monitor models. Stores come from --home, "
        "GANNET_* variables or gannet.toml.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
    )
    built.callback()(_global_options)
    built.command("info")(info)
    for kind, name, module_name, attribute in COMMANDS:
        if only is not None and name != only:
            continue
        module = import_module(f"gannet.cli.{module_name}")
        for extra in EXTENDS.get(name, []):
            import_module(f"gannet.cli.{extra}")
        found = getattr(module, attribute, None)
        if found is None:  # serve, predict: only with the serving extra
            continue
        if kind == "group":
            built.add_typer(found, name=name)
        else:
            built.command(name)(found)
    return built


def __getattr__(name: str) -> Any:
    """``app``: the whole command, built on first use (``main`` builds only what it runs)."""
    if name == "app":
        globals()["app"] = built = build()
        return built
    raise AttributeError(name)


def command_named(args: list[str]) -> str | None:
    """The command ``args`` run (the first word after the global options), if it is one
    of ``COMMANDS``: ``gannet --home h data add x`` -> ``data``."""
    known = {name for _, name, _, _ in COMMANDS}
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in known else None
    return None


def main() -> None:
    """The console script ``gannet`` (and ``python -m gannet``)."""
    only = command_named(sys.argv[1:])
    try:
        build(only)(prog_name="gannet")
    except GannetError as error:  # raised outside a command, e.g. while closing stores
        output.print_error(error)
        sys.exit(int(error.exit_code))


if __name__ == "__main__":
    main()
