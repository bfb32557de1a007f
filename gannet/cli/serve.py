"""``gannet serve``: run the inference server for a deployment or a model reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.core.settings import Settings


AccessLogOption = Annotated[bool | None, typer.Option(
    "--access-log/--no-access-log", show_default=False,
    help="One line per request on stderr (default: the serving_access_log setting).")]
CorsOption = Annotated[str | None, typer.Option(
    "--cors-origins",
    help="Origins whose web pages may call the server, comma-separated; * for any "
         "(default: the serving_cors_origins setting; none: CORS off).")]
T = TypeVar("T")


def _or(flag: T | None, setting: T) -> T:
    """The command line's value when given, else the setting's."""
    return setting if flag is None else flag


def serve(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(
        help="A deployment name, or a model reference: churn@champion, churn/3, churn.",
        metavar="REF|DEPLOYMENT")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port (0: any free port).")] = 8080,
    workers: Annotated[int, typer.Option(
        "--workers", "-w", min=1, help="Worker processes sharing the port (pre-fork).")] = 1,
    batch_max_rows: Annotated[int, typer.Option(
        "--batch-max-rows", min=1, help="Most rows one predict call takes.")] = 256,
    batch_max_wait_ms: Annotated[float, typer.Option(
        "--batch-max-wait-ms", min=0.0,
        help="Longest wait for more requests when several are queued (ms).")] = 2.0,
    poll_interval: Annotated[float, typer.Option(
        "--poll-interval", min=0.05,
        help="Seconds between checks for traffic changes and alias moves.")] = 1.0,
    no_log: Annotated[bool, typer.Option(
        "--no-log", help="Do not write the inference log.")] = False,
    max_feedback_bytes: Annotated[int, typer.Option(
        "--max-feedback-bytes", min=1,
        help="Largest POST /feedback body (bytes); larger ones are refused (413).")
    ] = 64 * 1024,
    read_timeout: Annotated[float, typer.Option(
        "--read-timeout", min=0.1,
        help="Seconds a request (headers and body) has to arrive; slower ones: 408 or closed.")
    ] = 30.0,
    keep_alive_timeout: Annotated[int, typer.Option(
        "--keep-alive-timeout", min=1,
        help="Seconds an idle keep-alive connection is kept open.")] = 30,
    access_log: AccessLogOption = None,
    cors_origins: CorsOption = None,
) -> None:
    """Serve a model over HTTP: Open Inference Protocol V2, /predict, /metrics.

    Loads the (verified) model versions, micro-batches concurrent requests, routes traffic
    by the deployment's weights, shadows and sticky key, follows alias moves and traffic
    changes without dropping a request, and logs predictions to the inference log.
    """
    from gannet.bootstrap import build
    from gannet.serving.server.cors import parse_origins
    from gannet.serving.server.runner import ServeOptions
    from gannet.serving.server.runner import serve as run

    settings: Settings = ctx.obj.settings
    workers = _workers(workers)
    options = ServeOptions(
        batch_max_rows=batch_max_rows, batch_max_wait_ms=batch_max_wait_ms,
        poll_interval=poll_interval,
        log_factory=None if no_log else _inference_log(settings),
        housekeeping=None if no_log else _log_compactor(settings),
        max_feedback_bytes=max_feedback_bytes,
        read_timeout=read_timeout,
        keep_alive_timeout=keep_alive_timeout,
        cors_origins=parse_origins(_or(cors_origins, settings.serving_cors_origins)),
        access_log=_or(access_log, settings.serving_access_log),
        explain_max_rows=settings.serving_explain_max_rows,
        explain_timeout=settings.serving_explain_timeout)
    run(settings, target, build=build, host=host, port=port, workers=workers,
        options=options, on_listening=_listening(target, workers))


def _workers(asked: int) -> int:
    """The workers this platform can run (saying so when fewer than asked)."""
    from gannet.serving.server.runner import usable_workers

    workers, why = usable_workers(asked)
    if why:
        output.note(why)
    return workers


def _listening(target: str, workers: int) -> Callable[[str, int], None]:
    """What to say once the socket listens (the first line: tests and scripts read it)."""

    def say(address: str, bound: int) -> None:
        shown = f"[{address}]" if ":" in address else address
        output.say(f"serving {target} on http://{shown}:{bound} "
                   f"({workers} worker{'s' if workers != 1 else ''}); Ctrl+C stops")

    return say


def _inference_log(settings: Settings) -> Any:
    """A factory of the inference log writer (None when not available); the server takes
    feedback through it too (queued, written in batches)."""
    try:
        from gannet.serving.log.schema import default_root
        from gannet.serving.log.writer import InferenceLogWriter
    except ImportError:
        return None
    root = default_root(settings)
    return lambda: InferenceLogWriter(root)


def _log_compactor(settings: Settings) -> Any:
    """The inference log's compaction and retention, for the server's housekeeping."""
    from gannet.cli.inference import retention_days
    from gannet.serving.log.compaction import LogCompactor
    from gannet.serving.log.schema import default_root
    from gannet.serving.log.storage import LogStorage

    return LogCompactor(LogStorage(default_root(settings)),
                        retention_days=retention_days(settings))
