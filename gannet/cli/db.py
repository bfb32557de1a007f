"""``gannet db``: the metadata store's schema revision, and migrating it.

Every other command migrates the store on first use (through ``gannet.bootstrap``);
these two open it without doing so, to show what is there before touching it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from gannet.cli import output

if TYPE_CHECKING:
    from gannet.store.metadata import MetadataStore

app = typer.Typer(help="The metadata store's schema.", no_args_is_help=True)


def _open(ctx: typer.Context) -> MetadataStore:
    """The metadata store named by the settings, opened but not migrated."""
    from gannet.bootstrap import open_metadata

    store = open_metadata(ctx.obj.settings)
    ctx.call_on_close(store.close)
    return store


def _head() -> str:
    from gannet.store.metadata import migrations

    return migrations.HEAD


@app.command("upgrade")
def upgrade(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """Apply the schema migrations this Gannet knows; print the revision before and after."""
    store = _open(ctx)
    before = store.revision()
    store.upgrade()
    after = store.revision()
    where = store.display_url
    if as_json:
        output.print_json({"metadata_url": where, "before": before, "revision": after})
    elif before == after:
        output.say(f"{where}: already at revision {after} (head)")
    else:
        output.say(f"{where}: upgraded from revision {before or '(empty)'} to {after}")


@app.command("revision")
def revision(ctx: typer.Context, as_json: output.AsJson = False) -> None:
    """Print the metadata store's schema revision and this Gannet's head revision."""
    store = _open(ctx)
    current, head = store.revision(), _head()
    if as_json:
        output.print_json({"metadata_url": store.display_url, "revision": current, "head": head})
    elif current is None:
        output.say(f"{store.display_url}: empty (no schema); head is {head}")
        output.note("create the schema with `gannet db upgrade`")
    elif current == head:
        output.say(f"{store.display_url}: revision {current} (head)")
    else:
        output.say(f"{store.display_url}: revision {current}; head is {head}")
        output.note("migrate with `gannet db upgrade`")
