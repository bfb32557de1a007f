"""Small files are stored together in pack blobs; what a user sees does not change:
every file comes back verified, identical bytes are stored once, damage is named."""

import os
import threading
from pathlib import Path

import pytest
from data_files import make_tree

from gannet.core.errors import InvalidArgument


def _tree(root: Path, count: int, *, salt: str = "") -> Path:
    return make_tree(root, {f"part-{i // 100}/f{i}.txt": f"{salt}row {i}\n" * (i % 7 + 1)
                            for i in range(count)})


def _store_files(services) -> list[Path]:
    return [Path(services.blobs.blob_path(b.name)) for b in services.blobs.iter_blobs()]


def test_many_small_files_become_one_pack_and_check_out_identical(data_json, services,
                                                                   tmp_path):
    src = _tree(tmp_path / "src", 300)
    big = os.urandom(2 << 20)  # over the packing limit: a blob of its own
    (src / "big.bin").write_bytes(big)
    added = data_json("add", src, "--name", "many")
    assert added["file_count"] == 301 and added["hashed_files"] == 301
    # a pack, the big file's blob and the manifest: not one blob file per small file
    assert len(_store_files(services)) == 3
    out = tmp_path / "out"
    data_json("checkout", "many@1", out)
    for path in src.rglob("*"):
        if path.is_file():
            assert (out / path.relative_to(src)).read_bytes() == path.read_bytes()


def test_identical_small_files_are_stored_once_across_datasets(data_json, services,
                                                               tmp_path):
    data_json("add", _tree(tmp_path / "a", 200), "--name", "first")
    size_before = sum(p.stat().st_size for p in _store_files(services))
    copy = _tree(tmp_path / "b", 200)
    (copy / "extra.txt").write_text("one new file")
    data_json("add", copy, "--name", "second")
    grown = sum(p.stat().st_size for p in _store_files(services)) - size_before
    # the new manifest, and a pack of the one new file: not the 200 files again
    assert grown < 30_000
    out = tmp_path / "out"
    data_json("checkout", "second@1", out)
    assert (out / "part-1" / "f150.txt").read_text() == "row 150\n" * (150 % 7 + 1)


def test_a_damaged_part_of_a_pack_is_named_and_never_written_out(data_json, gannet,
                                                                 services, tmp_path):
    src = _tree(tmp_path / "src", 50)
    data_json("add", src, "--name", "ds")
    files = {f["path"]: f["digest"] for f in data_json("show", "ds@1")["files"]}
    victim = (src / "part-0" / "f10.txt").read_bytes()
    [pack] = [p for p in _store_files(services) if victim in p.read_bytes()]
    body = pack.read_bytes()
    at = body.index(victim)
    os.chmod(pack, 0o644)
    with open(pack, "r+b") as f:
        f.seek(at)
        f.write(b"X")
    out = tmp_path / "out"
    failed = gannet("data", "checkout", "ds@1", out)
    assert failed.exit_code == 7, failed.output
    assert files["part-0/f10.txt"] in failed.output
    assert not (out / "part-0" / "f10.txt").exists()


def test_packed_files_open_as_a_table(data_json, services, tmp_path):
    src = make_tree(tmp_path / "src", {"t.csv": "a,b\n1,2\n3,4\n", "u.csv": "a,b\n5,6\n"})
    data_json("add", src, "--name", "tables")
    frame = services.data.open("tables@1", as_="pandas")
    assert sorted(frame["a"].tolist()) == [1, 3, 5]


def test_a_small_file_that_changes_while_it_is_packed_makes_no_version(services, tmp_path):
    src = _tree(tmp_path / "src", 400)
    moving = src / "part-3" / "f399.txt"
    stop = threading.Event()

    def keep_writing():
        while not stop.is_set():
            moving.write_bytes(os.urandom(64))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    made = 0  # adds that happened to fall between two writes
    try:
        with pytest.raises(InvalidArgument, match="changed while it was being added"):
            for _ in range(20):  # the writer must land between the listing and the read
                services.data.add(src, "moving")
                made += 1
    finally:
        stop.set()
        writer.join()
    with services.metadata.read() as conn:  # the refused add made no version
        assert conn.exec_driver_sql("SELECT count(*) FROM dataset_versions").scalar() <= made
