"""Versions: add a file or a folder, no version for unchanged data, references, log,
tags, delete; identical bytes stored once across versions and datasets."""

import itertools

from data_files import age, make_tree


def test_adding_a_folder_makes_versions_only_when_something_changed(data_json, tmp_path):
    src = make_tree(tmp_path / "src", {"a.csv": "id,x\n1,2\n", "sub/b.bin": b"\x00" * 100})
    first = data_json("add", src, "--name", "churn", "-m", "first", "--tag", "prod")
    assert (first["created"], first["version"], first["file_count"], first["size"]) == (
        True, "1", 2, 109)
    assert first["tags"] == ["prod"] and first["columns"] == ["id", "x"]
    again = data_json("add", src, "--name", "churn")
    assert (again["created"], again["ref"]) == (False, "churn@1")
    (src / "sub" / "c.txt").write_text("new")
    second = data_json("add", src, "--name", "churn", "-m", "c added")
    assert (second["created"], second["ref"], second["file_count"]) == (True, "churn@2", 3)
    log = data_json("log", "churn")
    assert [v["ref"] for v in log] == ["churn@2", "churn@1"]
    assert [v["message"] for v in log] == ["c added", "first"]


def test_references_name_versions_by_number_latest_and_tag(data_json, gannet, tmp_path):
    src = tmp_path / "one.txt"
    src.write_text("v1")
    data_json("add", src, "--name", "notes", "--tag", "first")
    src.write_text("v2")
    data_json("add", src, "--name", "notes")
    assert data_json("show", "notes@first")["ref"] == "notes@1"
    assert data_json("show", "notes@latest")["ref"] == "notes@2"
    assert data_json("show", "notes")["ref"] == "notes@2"
    shown = data_json("show", "notes@1")
    assert shown["kind"] == "file" and [f["path"] for f in shown["files"]] == ["one.txt"]
    moved = data_json("tag", "notes@2", "first")
    assert moved["tags"] == ["first"]
    assert data_json("show", "notes@first")["ref"] == "notes@2"
    data_json("tag", "notes", "first", "--delete")
    missing = gannet("data", "show", "notes@first")
    assert missing.exit_code == 4 and "notes@first" in missing.output


def test_identical_bytes_are_stored_once_across_versions_and_datasets(
    data_json, services, tmp_path
):
    big = b"x" * 50_000
    src = make_tree(tmp_path / "a", {"big.bin": big, "small.txt": "1"})
    data_json("add", src, "--name", "first")
    before = {b.name for b in services.blobs.iter_blobs()}
    other = make_tree(tmp_path / "b", {"copy.bin": big, "small.txt": "2"})
    data_json("add", other, "--name", "second")
    added = {b.name for b in services.blobs.iter_blobs()} - before
    assert len(added) == 2  # the new small file and the new manifest; big.bin is shared


def test_a_deleted_version_is_gone_from_references_and_its_number_is_not_reused(
    data_json, gannet, tmp_path
):
    src = tmp_path / "f.txt"
    src.write_text("1")
    data_json("add", src, "--name", "d")
    src.write_text("2")
    data_json("add", src, "--name", "d", "--tag", "t")
    deleted = data_json("delete", "d@2")
    assert deleted["ref"] == "d@2"
    assert data_json("show", "d@latest")["ref"] == "d@1"
    gone = gannet("data", "show", "d@2")
    assert gone.exit_code == 4 and "was deleted" in gone.output
    assert gannet("data", "show", "d@t").exit_code == 4  # its tag went with it
    src.write_text("3")
    assert data_json("add", src, "--name", "d")["ref"] == "d@3"
    assert [v["ref"] for v in data_json("log", "d", "--deleted")] == ["d@3", "d@2", "d@1"]
    whole = gannet("data", "delete", "d")
    assert whole.exit_code == 3 and "d@latest" in whole.output


def test_the_stat_cache_hashes_only_changed_files(data_json, tmp_path):
    src = make_tree(tmp_path / "src", {f"f{i}.txt": str(i) for i in range(20)})
    age(src)
    assert data_json("add", src, "--name", "c")["hashed_files"] == 20
    again = data_json("add", src, "--name", "c")
    assert (again["created"], again["hashed_files"]) == (False, 0)
    (src / "f3.txt").write_text("changed, with another size")
    age(src / "f3.txt")
    third = data_json("add", src, "--name", "c")
    assert (third["created"], third["hashed_files"], third["ref"]) == (True, 1, "c@2")
    (src / "f4.txt").unlink()  # every file left is known, but one is gone
    fourth = data_json("add", src, "--name", "c")
    assert (fourth["created"], fourth["hashed_files"], fourth["file_count"]) == (True, 0, 19)


def test_a_file_rewritten_with_the_same_size_and_mtime_but_a_new_inode_is_hashed(
    data_json, tmp_path
):
    src = make_tree(tmp_path / "src", {"a.txt": "aaaa"})
    age(src)
    data_json("add", src, "--name", "i")
    info = (src / "a.txt").stat()
    (src / "a.txt").unlink()
    (src / "a.txt").write_text("bbbb")
    import os

    os.utime(src / "a.txt", ns=(info.st_atime_ns, info.st_mtime_ns))
    result = data_json("add", src, "--name", "i")
    assert (result["created"], result["hashed_files"]) == (True, 1)


def test_list_shows_every_dataset_with_its_latest_version_and_age(data_json, gannet,
                                                                   tmp_path):
    for name in ("b", "a"):
        (tmp_path / f"{name}.txt").write_text(name)
        data_json("add", tmp_path / f"{name}.txt", "--name", name)
    listed = data_json("list")
    assert [d["name"] for d in listed] == ["a", "b"]
    assert listed[0]["latest"]["ref"] == "a@1" and listed[0]["age_seconds"] >= 0
    table = gannet("data", "list")
    assert table.exit_code == 0 and "a@1" in table.output


def test_concurrent_adds_to_one_dataset_get_distinct_consecutive_numbers(services, tmp_path):
    import threading

    sources = []
    for i in range(4):
        path = tmp_path / f"v{i}.txt"
        path.write_text(f"version {i}")
        sources.append(path)
    errors = []

    def add(path):
        try:
            services.data.add(path, "raced")
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(p,)) for p in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(v.version for v in services.data.log("raced")) == [1, 2, 3, 4]


def test_add_reports_files_and_bytes_as_it_goes(services, tmp_path):
    src = make_tree(tmp_path / "src", {f"{i}.bin": b"x" * (100 + i) for i in range(30)})
    seen = []
    services.data.add(src, "progress", progress=lambda *counts: seen.append(counts))
    total = sum(100 + i for i in range(30))
    assert seen[-1] == (30, 30, total, total)
    assert all(a[0] <= b[0] and a[2] <= b[2] for a, b in itertools.pairwise(seen))


def test_a_large_file_re_added_just_after_it_was_written(data_json, tmp_path, monkeypatch):
    """A file stored racily fresh is never trusted by its stat: re-added, it is hashed
    again (and, its hash agreeing, not copied); changed in place at the same size in the
    same instant, it makes a new version with the new bytes."""
    monkeypatch.setattr("gannet.data.scan.ONE_PASS", 1024)  # "large": hashed, then copied
    src = tmp_path / "big.bin"
    src.write_bytes(b"a" * 4096)
    fresh(src)
    first = data_json("add", src, "--name", "big")
    again = data_json("add", src, "--name", "big")
    assert (again["created"], again["ref"], again["hashed_files"]) == (False, "big@1", 1)
    src.write_bytes(b"b" * 4096)
    fresh(src)
    changed = data_json("add", src, "--name", "big")
    assert (first["created"], changed["created"], changed["ref"]) == (True, True, "big@2")
    digests = [data_json("show", ref)["files"][0]["digest"] for ref in ("big@1", "big@2")]
    assert digests[0] != digests[1]
    age(src, 120)
    data_json("add", src, "--name", "big")  # settled now: its stat is remembered
    settled = data_json("add", src, "--name", "big")
    assert (settled["created"], settled["hashed_files"]) == (False, 0)


def fresh(path) -> None:
    """Give ``path`` an mtime a minute ahead: however slow the test, the add that follows
    sees a racily fresh file."""
    import os
    import time

    ahead = time.time_ns() + 60 * 10**9
    os.utime(path, ns=(ahead, ahead))
