"""Benchmark: storing and restoring artifacts with BlobStore against plain file copies.

    python bench/artifacts.py [--size-gb 2] [--small-files 2000] [--threads 8]

One big file is stored with ``put_file`` (new, then already stored) and restored with
``get_file``; many small files with ``put_files`` / ``get_files``. The anchor is what a
user would otherwise do: ``shutil.copyfile`` (and ``shutil.copy`` per small file). Each
operation runs in a fresh subprocess that reports its own peak RSS, so "RSS growth" is
the honest high-water mark of that operation alone (it must stay flat: streaming, not
loading). The page cache is flushed (``sync``) before each operation; the source is in
memory for every contender alike. BlobStore fsyncs every blob it writes (a stored blob
must survive a power cut); plain ``copyfile`` does not, so a ``copyfile + fsync`` row is
printed for context. Use ``--size-gb 0.2`` for a quick run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1 << 20
BLOCK = 8 * MIB
THREADS = [8]  # BlobStore transfer threads, as given on the command line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of the big file")
    parser.add_argument("--small-files", type=int, default=2000, help="how many 4 KiB files")
    parser.add_argument("--threads", type=int, default=8, help="BlobStore transfer threads")
    parser.add_argument("--repeat", type=int, default=2, help="runs per operation (best kept)")
    parser.add_argument("--dir", default=None, help="where to put temporary files")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.threads)
        return
    THREADS[0] = args.threads
    work = Path(tempfile.mkdtemp(prefix="gannet-bench-", dir=args.dir))
    started = time.perf_counter()
    try:
        rows = _big_file(work, int(args.size_gb * (1 << 30)), args.threads, args.repeat)
        rows += _small_files(work, args.small_files, args.threads, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _print_table(rows)
    print(f"(threads={args.threads}, {os.cpu_count()} CPUs, "
          f"total {time.perf_counter() - started:.0f} s)")


def _big_file(work: Path, size: int, threads: int, repeat: int) -> list[tuple]:
    source = work / "big.bin"
    _make_file(source, size)
    copy = work / "copy.bin"
    label = f"one {size / (1 << 30):.2f} GiB file, best of {repeat}"
    rows: list[tuple] = [(label,)]
    anchor = _best(repeat, ["copyfile", source, copy], copy)
    rows.append(("shutil.copyfile (anchor)", anchor, size, anchor))
    rows.append(("shutil.copyfile + fsync",
                 _best(repeat, ["copyfile+fsync", source, copy], copy), size, anchor))
    put = _best(repeat, ["put_file", work / "store", source], work / "store")
    rows.append(("BlobStore.put_file (new)", put, size, anchor))
    _run(["put_file", work / "store", source])
    rows.append(("BlobStore.put_file (stored)",
                 _best(repeat, ["put_file", work / "store", source]), size, anchor))
    rows.append(("BlobStore.get_file (verified)",
                 _best(repeat, ["get_file", work / "store", put["digest"], copy], copy),
                 size, anchor))
    shutil.rmtree(work / "store")
    return rows


def _small_files(work: Path, count: int, threads: int, repeat: int) -> list[tuple]:
    folder = work / "small"
    folder.mkdir()
    for i in range(count):
        (folder / f"{i:05}.bin").write_bytes(os.urandom(4096))
    total = count * 4096
    store, out = work / "store2", work / "small-out"
    rows: list[tuple] = [(f"{count} files of 4 KiB, best of {repeat}",)]
    anchor = _best(repeat, ["copy_many", folder, out], out)
    rows.append(("shutil.copy each (anchor)", anchor, total, anchor))
    rows.append(("BlobStore.put_files (new)",
                 _best(repeat, ["put_files", store, folder], store), total, anchor))
    _run(["put_files", store, folder])
    rows.append(("BlobStore.put_files (stored)",
                 _best(repeat, ["put_files", store, folder]), total, anchor))
    rows.append(("BlobStore.get_files (verified)",
                 _best(repeat, ["get_files", store, folder, out], out), total, anchor))
    return rows


def _best(repeat: int, command: list, remove_after: Path | None = None) -> dict:
    """Fastest of ``repeat`` runs (the least disturbed by the rest of the machine), with
    the largest RSS growth seen in any of them."""
    runs = []
    for _ in range(repeat):
        runs.append(_run(command))
        if remove_after is not None and remove_after.is_dir():
            shutil.rmtree(remove_after)
        elif remove_after is not None:
            remove_after.unlink(missing_ok=True)
    best = min(runs, key=lambda run: run["seconds"])
    return {**best, "rss_growth_kib": max(run["rss_growth_kib"] for run in runs)}


def _make_file(path: Path, size: int) -> None:
    """Random-looking bytes (no two blocks alike), written in blocks: flat memory."""
    block = bytearray(os.urandom(BLOCK))
    with open(path, "wb") as out:
        written = 0
        while written < size:
            block[:8] = written.to_bytes(8, "little")
            piece = min(BLOCK, size - written)
            out.write(memoryview(block)[:piece])
            written += piece


def _run(command: list) -> dict:
    os.sync()  # start each operation with no dirty pages of the previous one to write back
    argv = [sys.executable, __file__, "--threads", str(THREADS[0]), "--child",
            *map(str, command)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(command: list[str], threads: int) -> None:
    """Run one operation and print its time and peak RSS growth as JSON."""
    from gannet.store.blobs import BlobStore

    op, *args = command
    uses_store = op.startswith(("put_", "get_"))
    store = BlobStore(args[0], threads=threads, progress=False).open() if uses_store else None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result: dict = {}
    if op.startswith("copyfile"):
        shutil.copyfile(args[0], args[1])
        if op.endswith("fsync"):
            with open(args[1], "rb+") as copy:
                os.fsync(copy.fileno())
    elif op == "copy_many":
        os.makedirs(args[1])
        for name in sorted(os.listdir(args[0])):
            shutil.copy(os.path.join(args[0], name), args[1])
    elif op == "put_file":
        result["digest"] = store.put_file(args[1]).digest
    elif op == "get_file":
        store.get_file(args[1], args[2])
    elif op == "put_files":
        store.put_files(_files(args[1]))
    elif op == "get_files":
        refs = store.put_files(_files(args[1]))  # already stored: hashes only, untimed below
        started = time.perf_counter()
        store.get_files([(r.digest, os.path.join(args[2], f"{i:05}")) for i, r in
                         enumerate(refs)])
    seconds = time.perf_counter() - started
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps({**result, "seconds": seconds, "rss_growth_kib": growth}))


def _files(folder: str) -> list[str]:
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))]


def _print_table(rows: list[tuple]) -> None:
    print(f"{'operation':<32}{'seconds':>9}{'MB/s':>9}{'RSS +MiB':>10}{'vs anchor':>11}")
    for row in rows:
        if len(row) == 1:
            print(f"-- {row[0]}")
            continue
        name, measured, size, anchor = row
        seconds = measured["seconds"]
        print(
            f"{name:<32}{seconds:>9.3f}{size / seconds / 1e6:>9.0f}"
            f"{measured['rss_growth_kib'] / 1024:>10.1f}{seconds / anchor['seconds']:>10.2f}x"
        )


if __name__ == "__main__":
    main()
