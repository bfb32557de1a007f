"""Finding pipelines and steps: ``FILE[:NAME]`` for the CLI, and a step by module and name
for workers (a step travels to another process as a reference, not as code)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from gannet.core.errors import InvalidArgument, NotFound

_lock = threading.RLock()


def module_name_for(path: Path) -> str:
    """A module name for a pipeline file, the same in every process while the file is
    unchanged (an edited file is loaded again, as a new module)."""
    h = hashlib.blake2b(str(path.resolve()).encode(), digest_size=6)
    h.update(path.read_bytes())
    tag = h.hexdigest()
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"gannet_pipeline_{stem}_{tag}"


def load_file(path: str | Path, module_name: str | None = None) -> ModuleType:
    """Import the Python file at ``path`` (once per process) and return its module."""
    file = Path(path)
    if not file.is_file():
        raise NotFound(f"no pipeline file {str(path)!r}", "give the path of a .py file")
    name = module_name or module_name_for(file)
    with _lock:
        found = sys.modules.get(name)
        if found is not None:
            return found
        spec = importlib.util.spec_from_file_location(name, file.resolve())
        if spec is None or spec.loader is None:
            raise InvalidArgument(f"{str(path)!r} is not a Python file", "give a .py file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        folder = str(file.resolve().parent)
        if folder not in sys.path:  # the file's own imports of its neighbours
            sys.path.insert(0, folder)
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module


def load_pipeline(target: str) -> Any:
    """The pipeline ``FILE`` defines (its only one) or ``FILE:NAME`` names."""
    from gannet.pipelines.dsl import Pipeline

    path, _, name = target.rpartition(":") if not Path(target).is_file() else (target, "", "")
    module = load_file(path)
    found = {v.name: v for v in vars(module).values() if isinstance(v, Pipeline)}
    if name:
        if name not in found:
            by_attribute = getattr(module, name, None)
            if isinstance(by_attribute, Pipeline):
                return by_attribute
            raise NotFound(f"{path} has no pipeline {name!r}",
                           f"its pipelines: {', '.join(sorted(found)) or 'none'}")
        return found[name]
    if len(found) != 1:
        raise InvalidArgument(
            f"{path} defines {len(found) or 'no'} pipelines"
            + (f" ({', '.join(sorted(found))})" if found else ""),
            f"name one: {path}:NAME" if found else "decorate a function with @gannet.pipeline",
        )
    return next(iter(found.values()))


def find_step(module_name: str, qualname: str, file: str | None) -> Any:
    """The step ``qualname`` of ``module_name`` (loading ``file`` under that name if the
    module cannot be imported): how a worker turns a pickled step back into one."""
    from gannet.pipelines.dsl import Step

    module = sys.modules.get(module_name)
    if module is None:
        if file is not None and module_name.startswith("gannet_pipeline_"):
            module = load_file(file, module_name)
        else:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError:
                if file is None:
                    raise
                module = load_file(file, module_name)  # loaded by path in the caller too
    value: Any = module
    for part in qualname.split("."):
        value = getattr(value, part)
    return value if isinstance(value, Step) else Step(value)


def checkout(repo: str, rev: str, cache: Path) -> tuple[Path, str]:
    """A folder holding git repository ``repo`` at revision ``rev`` (a commit, tag or
    branch), and the commit: cloned once into ``cache``, each commit checked out once."""
    import shutil
    import subprocess
    import tempfile

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], capture_output=True, text=True)

    key = hashlib.blake2b(repo.encode(), digest_size=6).hexdigest()
    mirror = cache / "repos" / key
    if not mirror.exists():
        mirror.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".clone-", dir=mirror.parent))
        cloned = git("clone", "--quiet", "--bare", repo, str(staging / "repo"))
        if cloned.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise NotFound(f"cannot clone {repo!r}: {cloned.stderr.strip()}",
                           "give a git URL or path this machine can read")
        (staging / "repo").rename(mirror)
        shutil.rmtree(staging, ignore_errors=True)
    exact = len(rev) == 40 and all(c in "0123456789abcdef" for c in rev.lower())
    found = git("--git-dir", str(mirror), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0 or not exact:  # newer than the clone, or a name that moves
        git("--git-dir", str(mirror), "fetch", "--quiet", "origin", "+refs/*:refs/*")
        found = git("--git-dir", str(mirror), "rev-parse", "--verify", "--quiet",
                    f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise NotFound(f"revision {rev!r} does not exist in {repo}",
                       "give a commit sha, tag or branch of that repository")
    commit = found.stdout.strip()
    tree = cache / "checkouts" / f"{key}-{commit}"
    if not tree.exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".checkout-", dir=tree.parent))
        git("--git-dir", str(mirror), "--work-tree", str(staging), "checkout", "--quiet",
            "--force", commit, "--", ".")
        staging.rename(tree)
    return tree, commit
