"""Checkout: verified files in a new or empty folder, never over someone else's files
unless asked, completed by a rerun; an edit of the checkout never reaches the store."""

import os

from data_files import make_tree

from gannet.data import checkout as checkout_module


def test_checkout_restores_files_and_modes_verified(data_json, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": "alpha", "deep/er/b.bin": b"\x01" * 1000})
    os.chmod(src / "a.txt", 0o600)
    data_json("add", src, "--name", "ds")
    out = tmp_path / "out"
    done = data_json("checkout", "ds@1", out)
    assert (done["written"], done["present"]) == (2, 0)
    assert (out / "a.txt").read_text() == "alpha"
    assert (out / "deep/er/b.bin").read_bytes() == b"\x01" * 1000
    assert (out / "a.txt").stat().st_mode & 0o777 == 0o600
    assert not (out / checkout_module.MARKER).exists()


def test_a_non_empty_destination_is_refused_unless_forced(data_json, gannet, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": "new"})
    data_json("add", src, "--name", "ds")
    out = make_tree(tmp_path / "out", {"a.txt": "mine", "other.txt": "keep"})
    refused = gannet("data", "checkout", "ds@1", out)
    assert refused.exit_code == 5 and "not empty" in refused.output
    assert (out / "a.txt").read_text() == "mine"
    data_json("checkout", "ds@1", out, "--force")
    assert (out / "a.txt").read_text() == "new" and (out / "other.txt").read_text() == "keep"


def test_an_interrupted_checkout_is_completed_by_a_rerun(data_json, tmp_path):
    files = {f"f{i}.txt": f"content {i}" for i in range(6)}
    data_json("add", make_tree(tmp_path / "src", files), "--name", "ds")
    out = tmp_path / "out"
    data_json("checkout", "ds@1", out)
    # as a checkout killed half-way leaves it: its marker, some files, a temporary file
    (out / checkout_module.MARKER).write_text(data_json("show", "ds@1")["manifest_digest"])
    for i in range(3):
        (out / f"f{i}.txt").unlink()
    (out / ".f0.txt.0123456789ab.tmp").write_text("half")
    done = data_json("checkout", "ds@1", out)
    assert (done["written"], done["present"]) == (3, 3)
    assert all((out / name).read_text() == text for name, text in files.items())


def test_a_one_file_version_checks_out_to_a_file_or_into_a_folder(data_json, gannet,
                                                                    tmp_path):
    (tmp_path / "table.csv").write_text("id\n1\n")
    data_json("add", tmp_path / "table.csv", "--name", "t")
    data_json("checkout", "t@1", tmp_path / "copy.csv")
    assert (tmp_path / "copy.csv").read_text() == "id\n1\n"
    folder = tmp_path / "folder"
    folder.mkdir()
    data_json("checkout", "t@1", folder)
    assert (folder / "table.csv").read_text() == "id\n1\n"
    (tmp_path / "copy.csv").write_text("edited")
    assert gannet("data", "checkout", "t@1", tmp_path / "copy.csv").exit_code == 5


def test_editing_a_checked_out_file_in_place_leaves_the_store_intact(data_json, gannet,
                                                                      tmp_path):
    data_json("add", make_tree(tmp_path / "src", {"a.txt": "original"}), "--name", "ds")
    out = tmp_path / "out"
    data_json("checkout", "ds@1", out)
    with open(out / "a.txt", "r+b") as f:  # an in-place write: what a hard link would leak
        f.write(b"EDITED!!")
    again = tmp_path / "again"
    data_json("checkout", "ds@1", again)
    assert (again / "a.txt").read_text() == "original"


def test_a_corrupted_blob_is_named_and_never_written_out(data_json, gannet, services,
                                                          tmp_path):
    data_json("add", make_tree(tmp_path / "src", {"a.txt": "good bytes"}), "--name", "ds")
    [entry] = data_json("show", "ds@1")["files"]
    stored = services.blobs.blob_path(entry["digest"])
    os.chmod(stored, 0o644)
    with open(stored, "r+b") as f:
        f.write(b"BAD!")
    out = tmp_path / "out"
    failed = gannet("data", "checkout", "ds@1", out)
    assert failed.exit_code == 7, failed.output
    assert entry["digest"] in failed.output
    assert not (out / "a.txt").exists()
    assert [p.name for p in out.iterdir() if not p.name.startswith(".gannet")] == []
