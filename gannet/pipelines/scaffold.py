"""Project templates: ``gannet init --template NAME DIR`` copies a template's folder.

A template is a folder of files (a ``.tmpl`` suffix is dropped when copied, so a
template's Python files are not part of Gannet's own code). Gannet's own live in
``templates/``; a package adds one with an entry point in the group ``gannet.templates``
whose value is a function returning the folder's path.
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

from gannet.core.errors import AlreadyExists, InvalidArgument

TEMPLATE_GROUP = "gannet.templates"
BUILT_IN = Path(__file__).parent / "templates"
SUFFIX = ".tmpl"


def template_folders() -> dict[str, Path]:
    """Every template by name: Gannet's own, then those of installed packages."""
    found = {p.name: p for p in sorted(BUILT_IN.iterdir()) if p.is_dir()}
    for entry in metadata.entry_points(group=TEMPLATE_GROUP):
        found[entry.name] = Path(entry.load()())
    return found


def init_project(template: str, dest: str | Path) -> list[Path]:
    """Copy template ``template`` into ``dest`` (new or empty); the files written."""
    folders = template_folders()
    if template not in folders:
        raise InvalidArgument(f"no project template {template!r}",
                              f"templates: {', '.join(sorted(folders))}")
    target = Path(dest)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(f"{str(target)!r} exists and is not an empty folder",
                            "give a new folder")
    written = []
    source = folders[template]
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if "__pycache__" in relative.parts:
            continue
        out = target / str(relative).removesuffix(SUFFIX)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        written.append(out)
    return written
