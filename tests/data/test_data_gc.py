"""Deleting a version makes the blobs only it used collectable by ``gannet gc``; shared
blobs, live versions and versions deleted within the grace period keep theirs."""

import json
from pathlib import Path

from data_files import make_tree


def gc(gannet, *args):
    result = gannet("gc", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_deleted_version_frees_its_unique_blobs_after_the_grace_period(
    data_json, gannet, services, tmp_path
):
    src = make_tree(tmp_path / "src", {"shared.txt": "shared", "only1.txt": "only in one"})
    one = data_json("add", src, "--name", "d")
    (src / "only1.txt").unlink()
    (src / "only2.txt").write_text("only in two")
    data_json("add", src, "--name", "d")
    data_json("delete", "d@1")
    kept = gc(gannet)  # within the default grace period (1d): nothing goes
    assert kept["purged"]["dataset_versions"] == 0 and kept["blobs_deleted"] == 0
    report = gc(gannet, "--older-than", "0s")
    assert report["purged"]["dataset_versions"] == 1
    assert report["purged"]["dataset_packs_rewritten"] == 1  # shared.txt's pack held only1
    stored = {b.name for b in services.blobs.iter_blobs()}
    assert one["manifest_digest"] not in stored
    # small files lie in packs: look for their bytes, not their digests
    store_bytes = b"".join(Path(services.blobs.blob_path(name)).read_bytes()
                           for name in stored)
    assert b"only in one" not in store_bytes and b"shared" in store_bytes
    out = tmp_path / "out"
    data_json("checkout", "d@2", out)
    assert sorted(p.name for p in out.iterdir()) == ["only2.txt", "shared.txt"]


def test_re_adding_data_whose_blobs_were_collected_stores_them_again(
    data_json, gannet, tmp_path
):
    src = make_tree(tmp_path / "src", {"a.txt": "a"})
    import os

    info = os.stat(src / "a.txt")  # out of the racy window: the stat cache remembers it
    os.utime(src / "a.txt", ns=(info.st_atime_ns, info.st_mtime_ns - 10**10))
    data_json("add", src, "--name", "d")
    (tmp_path / "other.txt").write_text("other")
    data_json("add", tmp_path / "other.txt", "--name", "d")  # d@2: a.txt is only in d@1
    data_json("delete", "d@1")
    gc(gannet, "--older-than", "0s")
    again = data_json("add", src, "--name", "d")
    assert again["created"] and again["hashed_files"] == 0  # known to the stat cache ...
    out = tmp_path / "out"
    data_json("checkout", again["ref"], out)  # ... and still stored again
    assert (out / "a.txt").read_text() == "a"
