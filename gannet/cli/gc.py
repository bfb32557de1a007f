"""``gannet gc``: free the storage of what was deleted (one ``GarbageCollector.collect``)."""

from __future__ import annotations

from typing import Annotated

import typer

from gannet.cli import output


def gc(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="DURATION",
            help="Remove what was deleted (and temporary uploads left) longer ago than this: "
            "30m, 12h, 1d, 2w, or 0s for everything.",
        ),
    ] = "1d",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Change nothing; report what would be freed.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Remove runs and model versions deleted longer ago than --older-than, the blobs only
    they used, and stale temporary uploads; report what was (or would be) freed."""
    from gannet.core.durations import format_duration, parse_duration

    seconds = parse_duration(older_than)
    services = ctx.obj.services
    with output.progress_bar("sweeping blobs", enabled=not as_json) as advance:
        report = services.gc.collect(seconds, dry_run=dry_run, progress=advance)
    if as_json:
        output.print_json({**report.__dict__, "total_bytes_freed": report.total_bytes_freed})
        return
    verb = "would free" if dry_run else "freed"
    purged = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in report.purged.items())
    output.show(
        output.key_value_table(
            [
                ("Deleted longer ago than", format_duration(seconds)),
                ("Removed for good" if not dry_run else "Would remove", purged or "nothing"),
                ("Blobs", f"{report.blobs_deleted} ({output.format_size(report.bytes_freed)})"),
                (
                    "Temporary uploads",
                    f"{report.temporary_deleted} "
                    f"({output.format_size(report.temporary_bytes_freed)})",
                ),
                ("Blobs kept", str(report.blobs_kept)),
            ]
        )
    )
    output.say(f"{verb} {output.format_size(report.total_bytes_freed)}", style="bold")
    if report.skipped_busy:
        output.note(f"{report.skipped_busy} blobs were left: writers were busy; run gc again")
    if report.missing:
        shown = ", ".join(report.missing[:5]) + (" ..." if len(report.missing) > 5 else "")
        output.note(f"{len(report.missing)} referenced blobs are missing from the store: {shown}")
