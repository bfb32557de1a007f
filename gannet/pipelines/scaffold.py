"""Project templates: ``gannet init --template NAME DIR`` copies a template's folder.

A template is a folder of files (a ``.tmpl`` suffix is dropped when copied, so a
template's Python files are not part of Gannet's own code). Gannet's own live in
``templates/``; a package adds one with an entry point in the group ``gannet.templates``
whose value is a function returning the folder's path.

``template_pipeline`` is what the web UI launches: the template's ``pipeline.py``, its
folder copied once into a cache (again when the template's files change).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from gannet.core.errors import AlreadyExists, InvalidArgument

TEMPLATE_GROUP = "gannet.templates"
BUILT_IN = Path(__file__).parent / "templates"
SUFFIX = ".tmpl"
PIPELINE_FILE = "pipeline.py"


def template_folders() -> dict[str, Path]:
    """Every template by name: Gannet's own, then those of installed packages."""
    found = {p.name: p for p in sorted(BUILT_IN.iterdir()) if p.is_dir()}
    for entry in metadata.entry_points(group=TEMPLATE_GROUP):
        found[entry.name] = Path(entry.load()())
    return found


def _folder(template: str) -> Path:
    folders = template_folders()
    if template not in folders:
        raise InvalidArgument(f"no project template {template!r}",
                              f"templates: {', '.join(sorted(folders))}")
    return folders[template]


def template_pipeline(template: str, cache: Path) -> Path:
    """The ``pipeline.py`` of a copy of template ``template`` in ``cache``, named by the
    digest of the template's files (copied once; a changed template is a new copy)."""
    source = _folder(template)
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(p for p in source.rglob("*") if p.is_file()
                       and "__pycache__" not in p.parts):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0" +
                      path.read_bytes())
    dest = cache / f"{template}-{digest.hexdigest()}"
    if not dest.exists():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=cache))
        init_project(template, staging / "project")
        try:
            (staging / "project").rename(dest)
        except OSError:  # another launch copied it first
            if not dest.exists():
                raise
        shutil.rmtree(staging, ignore_errors=True)
    if not (dest / PIPELINE_FILE).is_file():
        raise InvalidArgument(f"project template {template!r} has no {PIPELINE_FILE}",
                              "pick a template with a pipeline, or give its pipeline file")
    return dest / PIPELINE_FILE


def init_project(template: str, dest: str | Path) -> list[Path]:
    """Copy template ``template`` into ``dest`` (new or empty); the files written."""
    target = Path(dest)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise AlreadyExists(f"{str(target)!r} exists and is not an empty folder",
                            "give a new folder")
    written = []
    source = _folder(template)
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if "__pycache__" in relative.parts:
            continue
        out = target / str(relative).removesuffix(SUFFIX)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        written.append(out)
    return written
