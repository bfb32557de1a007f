"""``gannet data``: versioned datasets (one ``DataService`` call per command), and
``gannet lineage``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gannet.cli import catalogue, data_quality, output

if TYPE_CHECKING:
    from gannet.data.service import DataService
    from gannet.data.types import AddResult, Dataset, DatasetVersion

app = typer.Typer(help="Datasets: versions of files and folders, their catalogue, their "
                  "profiles and validation.", no_args_is_help=True)
app.command("validate")(data_quality.validate)
app.command("profile")(data_quality.profile)
app.command("catalogue")(catalogue.catalogue)

Ref = Annotated[str, typer.Argument(help="A dataset version: NAME, NAME@3, NAME@latest, "
                                         "NAME@TAG.", show_default=False)]
Name = Annotated[str, typer.Argument(help="The dataset's name.", show_default=False)]


def data_of(ctx: typer.Context) -> DataService:
    return ctx.obj.services.data


@app.command("add")
def add(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The file or folder to version.",
                                         show_default=False)],
    name: Annotated[str, typer.Option("--name", "-n", help="The dataset's name.",
                                      show_default=False)],
    message: Annotated[str, typer.Option("--message", "-m", help="What changed.")] = "",
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", help="Tag the version (NAME@TAG); repeat for more.")] = None,
    as_json: output.AsJson = False,
) -> None:
    """Add PATH as a new version of a dataset (none is made when nothing changed)."""
    result = None if tag else _known_unchanged(ctx, path, name)
    if result is None:
        with _add_progress(enabled=not as_json) as progress:
            result = data_of(ctx).add(path, name, message=message, tags=tag or (),
                                      progress=progress)
    v = result.version
    if as_json:
        output.print_json({**_version_json(v), "created": result.created,
                           "hashed_files": result.hashed, "hashed_bytes": result.hashed_bytes,
                           "seconds": round(result.seconds, 3)})
        return
    if result.created:
        output.say(f"Added {v.ref}: {v.file_count} files, {output.format_size(v.size)} "
                   f"({result.hashed} hashed in {result.seconds:.2f}s)")
    else:
        output.say(f"Unchanged: {v.ref} already holds these files ({result.hashed} hashed)")


def _known_unchanged(ctx: typer.Context, path: Path, name: str) -> AddResult | None:
    """The unchanged answer when the stat cache and the latest version vouch for it,
    before the stores open (see ``gannet.data.unchanged``); None: make the add."""
    from gannet.data.types import AddResult
    from gannet.data.unchanged import latest_if_unchanged

    started = time.perf_counter()
    known = latest_if_unchanged(ctx.obj.settings, path, name)
    if known is None:
        return None
    return AddResult(known, False, known.file_count, 0, 0, time.perf_counter() - started)


@contextlib.contextmanager
def _add_progress(*, enabled: bool) -> Iterator[Callable[[int, int, int, int], None]]:
    """Two bars on stderr, files and bytes, shown once hashing takes more than a moment."""
    if not enabled:
        yield lambda *_: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    started = time.monotonic()
    bar = Progress(TextColumn("{task.description:>6}"), BarColumn(), MofNCompleteColumn(),
                   DownloadColumn(), TransferSpeedColumn(),
                   console=output.console(stderr=True), transient=True)
    tasks: list[Any] = []

    def advance(files: int, of_files: int, nbytes: int, of_bytes: int) -> None:
        if not tasks:
            if time.monotonic() - started < 0.5:
                return
            bar.start()
            tasks.extend([bar.add_task("files", total=of_files),
                          bar.add_task("bytes", total=of_bytes)])
        bar.update(tasks[0], completed=files)
        bar.update(tasks[1], completed=nbytes)

    try:
        yield advance
    finally:
        if tasks:
            bar.stop()


@app.command("list")
def list_datasets(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """Every dataset: its latest version, size, owner and age of the latest version."""
    found = data_of(ctx).list_datasets()
    if as_json:
        output.print_json([_dataset_json(d) for d in found])
        return
    if not found:
        output.note("no datasets yet: gannet data add PATH --name NAME")
        return
    grid = output.table("Name", "Latest", "Versions", "Size", "Owner", "Age",
                        title="Datasets")
    for d in found:
        v = d.latest
        grid.add_row(output.text(d.name, "bold"), v.ref if v else "-", str(d.version_count),
                     output.format_size(v.size) if v else "-", d.owner or "-",
                     _age(v.creation_time) if v else "-")
    output.show(grid)


@app.command("log")
def log(
    ctx: typer.Context,
    name: Name,
    deleted: Annotated[bool, typer.Option("--deleted", help="Include deleted versions.")] = False,
    as_json: output.AsJson = False,
) -> None:
    """The versions of a dataset, newest first."""
    versions = data_of(ctx).log(name, deleted=deleted)
    if as_json:
        output.print_json([_version_json(v) for v in versions])
        return
    grid = output.table("Version", "Created", "Files", "Size", "Tags", "Message",
                        title=f"Versions of {name}")
    for v in versions:
        grid.add_row(output.text(str(v.version), "bold"), output.format_time(v.creation_time),
                     str(v.file_count), output.format_size(v.size), ", ".join(v.tags),
                     v.message + (" (deleted)" if v.deleted else ""))
    output.show(grid)


@app.command("show")
def show(ctx: typer.Context, ref: Ref, as_json: output.AsJson = False) -> None:
    """One version: what it holds (its files, their sizes and digests)."""
    v = data_of(ctx).resolve(ref)
    assert v.manifest is not None
    if as_json:
        output.print_json({**_version_json(v), "files": [
            {"path": p, "digest": e.digest, "size": e.size, "mode": e.mode}
            for p, e in v.manifest.entries.items()]})
        return
    output.show(output.key_value_table([
        ("Version", v.ref), ("Kind", v.kind), ("Files", str(v.file_count)),
        ("Size", output.format_size(v.size)), ("Created", output.format_time(v.creation_time)),
        ("Age", _age(v.creation_time)), ("Tags", ", ".join(v.tags) or "-"),
        ("Message", v.message or "-"), ("Columns", ", ".join(v.columns) or "-"),
        ("Source", v.source), ("Manifest", v.manifest_digest),
    ]))
    grid = output.table("Path", "Size", "Digest")
    for path, entry in list(v.manifest.entries.items())[:50]:
        grid.add_row(path, output.format_size(entry.size), entry.digest[:19])
    output.show(grid)
    if len(v.manifest.entries) > 50:
        output.note(f"{len(v.manifest.entries) - 50} more files: gannet data show {ref} --json")


@app.command("diff")
def diff(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="The older version (NAME@N).", show_default=False)],
    new: Annotated[str, typer.Argument(help="The newer version.", show_default=False)],
    key: Annotated[list[str] | None, typer.Option(
        "--key", help="Key column of the tables: rows added, removed and changed are "
        "counted by it (repeat for a composite key).")] = None,
    as_json: output.AsJson = False,
) -> None:
    """What changed between two versions: files, and the schema and rows of tables."""
    found = data_of(ctx).diff(old, new, key=key or None)
    if as_json:
        output.print_json(found)
        return
    if found.same:
        output.say(f"{found.old} and {found.new} hold the same files")
    for mark, changes in (("+", found.added), ("-", found.removed), ("~", found.changed)):
        for c in changes:
            sizes = " -> ".join(output.format_size(s) for s in (c.old_size, c.new_size)
                                if s is not None)
            output.say(f"{mark} {c.path} ({sizes})")
    for table in found.tables:
        output.show(output.key_value_table(_table_rows(table)))


def _table_rows(table: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [("Table", table["path"]),
            ("Rows", f"{table['rows_before']} -> {table['rows_after']}"),
            ("Columns added", ", ".join(table["columns_added"]) or "-"),
            ("Columns removed", ", ".join(table["columns_removed"]) or "-"),
            ("Types changed", ", ".join(f"{c}: {a} -> {b}" for c, (a, b)
                                        in table["types_changed"].items()) or "-")]
    if "key" in table:
        for kind in ("added", "removed", "changed"):
            sample = ", ".join(str(k) for k in table[f"sample_{kind}"])
            rows.append((f"Rows {kind}", f"{table[f'rows_{kind}']}"
                         + (f" (e.g. {sample})" if sample else "")))
    return rows


@app.command("checkout")
def checkout(
    ctx: typer.Context,
    ref: Ref,
    dest: Annotated[Path, typer.Argument(help="Where to put the files (a new or empty "
                                              "folder).", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty "
                                        "destination (same names replaced).")] = False,
    as_json: output.AsJson = False,
) -> None:
    """Put a version's files in DEST, verified against their digests."""
    result = data_of(ctx).checkout(ref, dest, force=force)
    output.done(as_json, f"Checked out {result.version.ref} into {result.dest}: "
                f"{result.written} written ({result.reflinked} reflinked), "
                f"{result.present} already there",
                {**_version_json(result.version), "dest": result.dest,
                 "written": result.written, "reflinked": result.reflinked,
                 "present": result.present, "bytes_written": result.bytes_written})


@app.command("pull")
def pull(ctx: typer.Context, ref: Ref, as_json: output.AsJson = False) -> None:
    """Fetch a version into the local cache (verified), to open it offline; print where."""
    path = data_of(ctx).local_path(ref)
    output.done(as_json, str(path), {"ref": ref, "path": str(path)})


@app.command("push")
def push(
    ctx: typer.Context,
    ref: Ref,
    to: Annotated[str | None, typer.Option(
        "--to", metavar="URI", help="The team server (default: the uri setting, "
        "GANNET_URI).")] = None,
    name: Annotated[str | None, typer.Option(
        "--name", "-n", help="The dataset's name there (default: the same).")] = None,
    as_json: output.AsJson = False,
) -> None:
    """Copy a version made offline (in this machine's own store) to the team server; only
    the files it lacks are sent."""
    from gannet.bootstrap import build
    from gannet.core.errors import InvalidArgument
    from gannet.remote import RemoteServices

    settings = ctx.obj.settings
    uri = to or settings.uri
    if not uri:
        raise InvalidArgument("gannet data push needs a team server to push to",
                              "pass --to http://host:5005, or set GANNET_URI")
    local = build(settings.replace(uri=""))
    remote = RemoteServices(settings.replace(uri=uri))
    try:
        result = remote.data.push(local.data, ref, name=name)
    finally:
        remote.close()
        local.close()
    v = result.version
    output.done(as_json, f"Pushed {ref} to {uri} as {v.ref} ({result.hashed} files sent)"
                if result.created else f"Unchanged: {uri} holds these files as {v.ref}",
                {**_version_json(v), "created": result.created, "sent_files": result.hashed})


@app.command("tag")
def tag(
    ctx: typer.Context,
    ref: Ref,
    name: Annotated[str, typer.Argument(help="The tag (then NAME@TAG names the version).",
                                        show_default=False)],
    delete: Annotated[bool, typer.Option("--delete", help="Remove the tag from the "
                                         "dataset instead.")] = False,
    as_json: output.AsJson = False,
) -> None:
    """Tag a version (moving the tag if another version had it), or remove a tag."""
    service = data_of(ctx)
    if delete:
        dataset = ref.partition("@")[0]
        service.delete_tag(dataset, name)
        output.done(as_json, f"Removed tag {dataset}@{name}", {"name": dataset, "tag": name})
        return
    v = service.tag(ref, name)
    output.done(as_json, f"Tagged {v.ref} as {v.name}@{name}", _version_json(v))


@app.command("delete")
def delete(ctx: typer.Context, ref: Ref, as_json: output.AsJson = False) -> None:
    """Delete a version; gannet gc frees the bytes only it used after the grace period."""
    v = data_of(ctx).delete(ref)
    output.done(as_json, f"Deleted {v.ref}", _version_json(v))


@app.command("describe")
def describe(
    ctx: typer.Context,
    name: Name,
    description: Annotated[str | None, typer.Option("--description", "-d",
                                                    help="What the dataset is.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Who answers for it.")] = None,
    keyword: Annotated[list[str] | None, typer.Option(
        "--keyword", help="A keyword to find it by (replaces the keywords; repeat).")] = None,
    column: Annotated[list[str] | None, typer.Option(
        "--column", metavar="COLUMN=TEXT", help="Describe a column (repeat).")] = None,
    as_json: output.AsJson = False,
) -> None:
    """Set a dataset's catalogue entry: description, owner, keywords, column descriptions."""
    columns = {}
    for item in column or []:
        col, sep, text = item.partition("=")
        if not sep or not col:
            raise typer.BadParameter(f"{item!r} is not COLUMN=TEXT", param_hint="--column")
        columns[col] = text
    d = data_of(ctx).describe(name, description=description, owner=owner,
                              keywords=keyword, columns=columns)
    output.done(as_json, f"Described {d.name}", _dataset_json(d))


@app.command("search")
def search(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="Part of a name, keyword, owner or "
                                               "column name.", show_default=False)] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owned by.")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Has this keyword or version "
                                            "tag.")] = None,
    column: Annotated[str | None, typer.Option("--column", help="Its latest version has "
                                               "this column.")] = None,
    as_json: output.AsJson = False,
) -> None:
    """Find datasets by name, keyword, tag, owner or column name."""
    found = data_of(ctx).search(text, owner=owner, tag=tag, column=column)
    if as_json:
        output.print_json([_dataset_json(d) for d in found])
        return
    grid = output.table("Name", "Latest", "Owner", "Keywords", "Description", title="Found")
    for d in found:
        grid.add_row(output.text(d.name, "bold"), d.latest.ref if d.latest else "-",
                     d.owner or "-", ", ".join(d.keywords), d.description)
    output.show(grid)


def lineage(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(
        help="A dataset version (churn@3), a model version (churn-model/4) or a run "
        "(runs:/ID).", show_default=False)],
    as_json: output.AsJson = False,
) -> None:
    """Which runs and model versions used a dataset version, or which dataset versions a
    run or model version used."""
    usage = data_of(ctx).usage(ref)
    if as_json:
        output.print_json(usage)
        return
    if usage.kind == "dataset_version":
        for made in usage.derived_from:
            output.say(f"{usage.ref} was made from {made['kind'].replace('_', ' ')} "
                       f"{made['id']} ({made['context'] or 'no context'})")
        output.say(f"{usage.ref} was used by {len(usage.runs)} runs")
        for run in usage.runs:
            output.say(f"  run {run['run_id']} ({run['context'] or 'no context'})")
    else:
        output.say(f"{usage.ref} used {len(usage.datasets)} dataset versions")
        for used in usage.datasets:
            output.say(f"  {used['dataset_version']} ({used['context'] or 'no context'}, "
                       f"run {used['run_id']})")
    for mv in usage.model_versions:
        output.say(f"  model version {mv}")


def _version_json(v: DatasetVersion) -> dict[str, Any]:
    return {"name": v.name, "version": v.version, "ref": v.ref, "kind": v.kind,
            "manifest_digest": v.manifest_digest, "file_count": v.file_count, "size": v.size,
            "message": v.message, "tags": list(v.tags), "columns": list(v.columns),
            "source": v.source, "creation_time": v.creation_time,
            "deleted_time": v.deleted_time}


def _dataset_json(d: Dataset) -> dict[str, Any]:
    return {"name": d.name, "description": d.description, "owner": d.owner,
            "keywords": list(d.keywords), "column_descriptions": d.column_descriptions,
            "version_count": d.version_count,
            "latest": _version_json(d.latest) if d.latest else None,
            "age_seconds": (time.time() * 1000 - d.latest.creation_time) / 1000
            if d.latest else None}


def _age(ms: int) -> str:
    return output.format_duration(int(time.time() * 1000) - ms)
