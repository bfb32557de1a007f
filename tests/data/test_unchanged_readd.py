"""An unchanged re-add is answered before the stores open (``gannet.data.unchanged``):
the answer must be the one a full add gives, and anything the shortcut cannot vouch for
must take the full path."""

import contextlib
import json
import sqlite3
import subprocess
import sys

import pytest
from data_files import age, make_tree


def _without_seconds(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "seconds"}


def test_an_unchanged_re_add_answers_as_the_full_add_did(data_json, settings, tmp_path):
    src = make_tree(tmp_path / "src", {"a.csv": "id,x\n1,2\n", "sub/b.bin": b"\x01" * 64})
    age(src)
    data_json("add", src, "--name", "churn", "-m", "first", "--tag", "prod", "--tag", "a")
    made = data_json("add", src, "--name", "churn")  # the full path (tags need a write)
    again = data_json("add", src, "--name", "churn")
    assert (again["created"], again["ref"], again["hashed_files"]) == (False, "churn@1", 0)
    assert again["tags"] == ["a", "prod"] and again["message"] == "first"
    assert _without_seconds(again) == _without_seconds(made)
    shown = data_json("show", "churn@1")
    assert {k: again[k] for k in shown if k != "files"} == {
        k: v for k, v in shown.items() if k != "files"}


def test_a_re_add_after_the_latest_version_was_deleted_makes_a_new_one(data_json, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": "one"})
    age(src)
    data_json("add", src, "--name", "d")
    (src / "a.txt").write_text("two")
    age(src)
    assert data_json("add", src, "--name", "d")["ref"] == "d@2"
    data_json("delete", "d@2")
    again = data_json("add", src, "--name", "d")  # the stat cache still knows d@2's files
    assert (again["created"], again["ref"], again["hashed_files"]) == (True, "d@3", 0)
    other = data_json("add", src, "--name", "e")  # the same files, another dataset
    assert (other["created"], other["ref"]) == (True, "e@1")


def test_a_store_at_another_schema_revision_is_never_answered_from(gannet, data_json,
                                                                   settings, tmp_path):
    if not settings.metadata_url.startswith("sqlite"):
        pytest.skip("the shortcut reads SQLite only")
    src = make_tree(tmp_path / "src", {"a.txt": "one"})
    age(src)
    data_json("add", src, "--name", "d")
    database = settings.metadata_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:  # closed, committed
        conn.execute("UPDATE gannet_alembic_version SET version_num = '9999'")
    refused = gannet("data", "add", src, "--name", "d")
    assert refused.exit_code != 0
    assert "newer than this Gannet knows" in refused.output


def test_an_unchanged_re_add_opens_neither_store(data_json, settings, tmp_path):
    """What makes it fast: the command does not import the metadata store's engine."""
    if not settings.metadata_url.startswith("sqlite"):
        pytest.skip("the shortcut reads SQLite only")
    src = make_tree(tmp_path / "src", {f"f{i}.txt": str(i) for i in range(30)})
    age(src)
    data_json("add", src, "--name", "many")
    probe = ("import sys\nfrom gannet.cli.app import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print('IMPORTED', sorted(m for m in ('sqlalchemy', 'alembic', 'fsspec') "
             "if m in sys.modules))")
    ran = subprocess.run(
        [sys.executable, "-c", probe, "--home", str(settings.home), "--metadata-url",
         settings.metadata_url, "--artifacts-url", settings.artifacts_url, "data", "add",
         str(src), "--name", "many", "--json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert ran.returncode == 0, ran.stderr
    answer, _, imported = ran.stdout.rpartition("IMPORTED")
    assert json.loads(answer)["ref"] == "many@1"
    assert imported.strip() == "[]"
