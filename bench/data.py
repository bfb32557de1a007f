"""Benchmark: versioning data with Gannet against DVC (`dvc add`), and the limits.

    python bench/data.py [--size-gb 1] [--files 20000] [--quick]

Two datasets: one big file (1 GiB) and a folder of many small files (20,000 of 1-4 KiB).
For each, in the same run and on the same files: the first add and a re-add with nothing
changed, by ``gannet data add`` and by ``dvc add`` (each a fresh command, as a user runs
it: interpreter start included), plus the limits the first add cannot beat — reading
the bytes, and blake3 over them (in this process, no writes). Gannet's own time inside
the command (``seconds`` in its JSON) is printed beside its wall time. Gannet's store is
made (``gannet data list``) before the first add, as DVC's repository is (``dvc init``).
``--quick`` is a small run (16 MiB, 500 files) to check the script, not a measurement.
The page cache is warm for every contender alike (the files were just written). Gannet's
modules are byte-compiled first, as an installed copy's are.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1 << 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, default=1.0, help="size of the big file")
    parser.add_argument("--files", type=int, default=20_000, help="how many small files")
    parser.add_argument("--quick", action="store_true", help="16 MiB and 500 files")
    parser.add_argument("--dir", default=None, help="where to put temporary files")
    args = parser.parse_args()
    size = 16 * MIB if args.quick else int(args.size_gb * (1 << 30))
    count = 500 if args.quick else args.files
    dvc = shutil.which("dvc") or _beside_python("dvc")
    _compile_gannet()
    work = Path(tempfile.mkdtemp(prefix="gannet-bench-data-", dir=args.dir))
    started = time.perf_counter()
    try:
        repo = work / "repo"
        repo.mkdir()
        big, small = repo / "big.bin", repo / "small"
        _make_big(big, size)
        total = _make_small(small, count)
        _age(repo)  # written "long ago": out of the stat caches' racy windows
        rows = [(f"one {size / (1 << 30):.2f} GiB file",)]
        rows += _measure(work, repo, big, size, dvc)
        rows.append((f"{count} files of 1-4 KiB ({total / MIB:.0f} MiB)",))
        rows += _measure(work, repo, small, total, dvc)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _print(rows)
    print(f"({os.cpu_count()} CPUs, dvc {'at ' + dvc if dvc else 'not installed'}, "
          f"total {time.perf_counter() - started:.0f} s)")


def _measure(work: Path, repo: Path, target: Path, size: int, dvc: str | None) -> list[tuple]:
    read = _limit_read(target)
    hashed = _limit_blake3(target)
    limit = read + hashed
    rows: list[tuple] = [("read the bytes (limit)", read, None), ("blake3 (limit)", hashed, None)]
    home = work / "gannet-home"
    if not home.exists():  # the store made before the clock starts, as `dvc init` is
        gannet = _beside_python("gannet") or "gannet"
        subprocess.run([gannet, "--home", str(home), "data", "list", "--json"], check=True,
                       capture_output=True)
    name = target.name.replace(".", "-")
    labels = ("first add", "re-add, unchanged")
    # each tool's two adds together: `dvc add` of a file puts a copy of its cache entry in
    # its place (a new inode), which any stat cache, Gannet's too, sees as a changed file
    ours = [_gannet(home, target, name) for _ in labels]
    theirs = [_dvc(dvc, repo, target) if dvc else None for _ in labels]
    for label, (wall, inner), dvc_wall in zip(labels, ours, theirs, strict=True):
        rows.append((f"{label}: gannet", wall, dvc_wall, inner, limit))
        if dvc_wall is not None:
            rows.append((f"{label}: dvc", dvc_wall, None))
    return rows


def _compile_gannet() -> None:
    """Byte-compile Gannet's modules, as ``pip install`` does: from a source checkout with
    ``PYTHONDONTWRITEBYTECODE`` set (as on this kind of machine) every command would
    otherwise compile them again, which no installed copy does (DVC's are compiled)."""
    import compileall

    import gannet

    compileall.compile_dir(str(Path(gannet.__file__).parent), quiet=1)


def _gannet(home: Path, target: Path, name: str) -> tuple[float, float]:
    gannet = _beside_python("gannet") or "gannet"
    argv = [gannet, "--home", str(home), "data", "add", str(target), "--name", name, "--json"]
    os.sync()
    started = time.perf_counter()
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    return wall, float(json.loads(done.stdout)["seconds"])


def _dvc(dvc: str, repo: Path, target: Path) -> float:
    if not (repo / ".dvc").exists():
        subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=repo, check=True)
        subprocess.run([dvc, "config", "core.analytics", "false"], cwd=repo, check=True)
    os.sync()
    started = time.perf_counter()
    subprocess.run([dvc, "add", "-q", target.name], cwd=repo, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def _limit_read(target: Path) -> float:
    started = time.perf_counter()
    for path in _files(target):
        with open(path, "rb", buffering=0) as f:
            while f.read(MIB):
                pass
    return time.perf_counter() - started


def _limit_blake3(target: Path) -> float:
    """blake3 over bytes already in memory (the hashing alone), file by file."""
    import blake3

    total = 0.0
    for path in _files(target):
        with open(path, "rb", buffering=0) as f:
            while chunk := f.read(8 * MIB):
                started = time.perf_counter()
                blake3.blake3(chunk)
                total += time.perf_counter() - started
    return total


def _files(target: Path) -> list[Path]:
    return [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())


def _make_big(path: Path, size: int) -> None:
    block = bytearray(os.urandom(8 * MIB))
    with open(path, "wb") as out:
        written = 0
        while written < size:
            block[:8] = written.to_bytes(8, "little")
            piece = min(len(block), size - written)
            out.write(memoryview(block)[:piece])
            written += piece


def _make_small(folder: Path, count: int) -> int:
    total = 0
    for i in range(count):
        sub = folder / f"part-{i % 100:03}"
        sub.mkdir(parents=True, exist_ok=True)
        data = os.urandom(1024 + (i * 7919) % 3073)
        (sub / f"{i:06}.bin").write_bytes(data)
        total += len(data)
    return total


def _age(root: Path) -> None:
    past = time.time_ns() - 60 * 10**9
    for path in root.rglob("*"):
        os.utime(path, ns=(past, past))


def _beside_python(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


def _print(rows: list[tuple]) -> None:
    print(f"{'operation':<30}{'seconds':>9}{'dvc/gannet':>12}{'in-process':>12}"
          f"{'vs read+hash':>14}")
    for row in rows:
        if len(row) == 1:
            print(f"-- {row[0]}")
            continue
        name, seconds, anchor, *rest = row
        ratio = f"{anchor / seconds:>11.2f}x" if anchor else f"{'':>12}"
        inner = f"{rest[0]:>12.3f}" if rest else f"{'':>12}"
        limit = f"{rest[0] / rest[1]:>13.2f}x" if rest and rest[1] else f"{'':>14}"
        print(f"{name:<30}{seconds:>9.3f}{ratio}{inner}{limit}")


if __name__ == "__main__":
    main()
