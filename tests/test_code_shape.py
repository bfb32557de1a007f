"""The shape ARCHITECTURE.md promises, checked on the code: SQL only in repositories,
small files and functions, and every package's docstring a map of what is inside."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gannet"
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60
# Where SQL may run: the repositories (``repository.py``, or ``<part>_repository.py`` when a
# capability's SQL is split by meaning), the engine that opens the store, its migrations,
# and the test helpers that make and empty throw-away databases.
SQL_ALLOWED = ("store/metadata/engine.py", "store/metadata/migrations/", "testing/")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _is_migration(path: Path) -> bool:
    return "migrations/versions" in _relative(path)


def test_sql_runs_only_in_repositories():
    offenders = []
    for path in _modules():
        if path.name.endswith("repository.py") or any(
            part in _relative(path) for part in SQL_ALLOWED
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("execute", "exec_driver_sql", "executemany")
            ):
                offenders.append(f"{_relative(path)}:{node.lineno}")
    assert offenders == [], "SQL outside a repository.py"


def test_no_file_is_over_the_limit():
    long = {
        _relative(path): lines
        for path in _modules()
        if not _is_migration(path)
        and (lines := len(path.read_text().splitlines())) > MAX_FILE_LINES
    }
    assert long == {}


def test_no_function_is_over_the_limit():
    long = []
    for path in _modules():
        if _is_migration(path):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{_relative(path)}:{node.name} ({lines} lines)")
    assert long == []


PACKAGES = sorted(
    path.parent for path in PACKAGE.rglob("__init__.py") if "migrations" not in path.parts
)


@pytest.mark.parametrize("package", PACKAGES, ids=_relative)
def test_each_package_docstring_is_a_map_of_what_is_inside(package: Path):
    docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
    inside = sorted(
        {p.stem for p in package.glob("*.py") if p.name != "__init__.py"}
        | {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    )
    unnamed = [name for name in inside if name not in docstring]
    assert docstring, f"{_relative(package)}/__init__.py has no docstring"
    assert unnamed == [], f"{_relative(package)}/__init__.py does not say what these hold"
