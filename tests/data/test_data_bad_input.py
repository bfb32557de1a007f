"""Bad input gets a precise error and stores nothing: missing and unreadable paths, link
loops, special files, bad names, versions that do not exist, files changing while read."""

import os
import threading

import pytest
from data_files import make_tree

from gannet.core.errors import InvalidArgument


def test_a_missing_path_is_not_found(gannet, tmp_path):
    result = gannet("data", "add", tmp_path / "nope", "--name", "d")
    assert result.exit_code == 4 and "nope" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_named(gannet, tmp_path):
    src = make_tree(tmp_path / "src", {"secret.txt": "x"})
    os.chmod(src / "secret.txt", 0)
    result = gannet("data", "add", src, "--name", "d")
    assert result.exit_code == 3 and "secret.txt" in result.output


def test_a_link_loop_and_a_link_to_a_folder_are_refused(gannet, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": "a"})
    os.symlink(src, src / "again")
    looped = gannet("data", "add", src, "--name", "d")
    assert looped.exit_code == 3 and "link to a folder" in looped.output
    os.unlink(src / "again")
    os.symlink(src / "self", src / "self")
    result = gannet("data", "add", src, "--name", "d")
    assert result.exit_code == 3 and "self" in result.output


def test_a_fifo_in_the_folder_is_refused(gannet, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": "a"})
    os.mkfifo(src / "pipe")
    result = gannet("data", "add", src, "--name", "d")
    assert result.exit_code == 3 and "pipe" in result.output and "regular file" in result.output


@pytest.mark.parametrize("name", ["a/b", "a\\b", "x@1", "", "../up", "-dash"])
def test_a_name_with_a_separator_or_an_at_is_refused(gannet, tmp_path, name):
    (tmp_path / "f.txt").write_text("x")
    result = gannet("data", "add", tmp_path / "f.txt", "--name", name)
    assert result.exit_code == 3 and "dataset name" in result.output


def test_references_to_what_does_not_exist_say_what_does(gannet, data_json, tmp_path):
    (tmp_path / "f.txt").write_text("x")
    data_json("add", tmp_path / "f.txt", "--name", "d")
    missing = gannet("data", "show", "d@7")
    assert missing.exit_code == 4 and "d@7" in missing.output and "versions 1" in missing.output
    assert gannet("data", "show", "nothing@1").exit_code == 4
    assert gannet("data", "checkout", "d@nope", tmp_path / "o").exit_code == 4
    assert gannet("data", "show", "d@1.5").exit_code == 3
    assert gannet("data", "tag", "d@1", "latest").exit_code == 3


def test_a_file_that_changes_while_it_is_read_is_reported_and_makes_no_version(
    services, tmp_path
):
    src = make_tree(tmp_path / "src", {"a.bin": b"0" * (8 << 20)})
    stop = threading.Event()

    def keep_writing():
        while not stop.is_set():
            with open(src / "a.bin", "r+b") as f:
                f.seek(4 << 20)
                f.write(os.urandom(16))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with pytest.raises(InvalidArgument, match="changed while it was being"):
            for _ in range(20):  # the writer must land between the reads at least once
                services.data.add(src, "d")
    finally:
        stop.set()
        writer.join()
    with services.metadata.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM dataset_versions").scalar() <= 1


def test_a_large_file_that_changes_while_it_is_copied_makes_no_version(services, tmp_path):
    from gannet.data import scan

    big = tmp_path / "big.bin"
    big.write_bytes(b"0" * (scan.ONE_PASS + (1 << 20)))
    stop = threading.Event()

    def keep_writing():
        while not stop.is_set():
            with open(big, "r+b") as f:
                f.seek(scan.ONE_PASS // 2)
                f.write(os.urandom(16))

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with pytest.raises(InvalidArgument, match="changed while it was being"):
            for _ in range(10):
                services.data.add(big, "big")
    finally:
        stop.set()
        writer.join()


def test_a_large_file_is_stored_in_one_pass_and_checks_out_whole(services, tmp_path):
    from gannet.data import scan

    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for i in range(scan.ONE_PASS // (1 << 20) + 3):
            f.write(bytes([i % 251]) * (1 << 20))
    added = services.data.add(big, "big")
    assert added.created and added.version.size == big.stat().st_size
    out = tmp_path / "out.bin"
    services.data.checkout("big@1", out)
    assert out.read_bytes() == big.read_bytes()
