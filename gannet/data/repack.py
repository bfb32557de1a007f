"""Garbage collection's side of packs: a pack that holds files no kept version lists is
rewritten with only the files still listed, so deleting a version frees its files' bytes
even when they were packed with files that stay.

The old pack is then referenced by no row of a kept file, and the collector's sweep
removes it like any unreferenced blob. Rows of dropped files keep pointing at the old
pack: an ``add`` that found such a file stored while the rewrite ran references it, the
collector's last look (``recheck_blobs``) then finds the pack through that row and keeps
it. Rows of packs no longer stored are dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gannet.core.errors import IntegrityError, NotFound
from gannet.data import repository
from gannet.data.packs import Packer, PackIndex
from gannet.store.blobs.parts import read_parts

if TYPE_CHECKING:
    from gannet.store.blobs import BlobStore
    from gannet.store.gc.leases import BlobLeases
    from gannet.store.metadata import MetadataStore


def repack(metadata: MetadataStore, blobs: BlobStore, leases: BlobLeases,
           kept: set[str]) -> int:
    """Rewrite the packs holding a file not in ``kept`` (digests of files that kept
    versions list); how many packs were rewritten."""
    with metadata.read() as conn:
        rows = repository.all_packed_rows(conn)
    by_pack: dict[str, list[tuple[int, int, str]]] = {}
    for digest, pack, start, size in rows:
        by_pack.setdefault(pack, []).append((start, size, digest))
    stale = [pack for pack, parts in by_pack.items() if any(d not in kept for *_, d in parts)]
    gone = [pack for pack in stale if not blobs.exists(pack)]
    rewritten = 0
    with leases.hold():
        index = PackIndex(metadata, blobs)
        with blobs.batched() as batch:
            packer = Packer(batch, index)
            try:
                for pack in stale:
                    if pack not in gone and _moved(blobs, packer, pack, by_pack[pack], kept):
                        rewritten += 1
                packer.close()
            except BaseException:
                packer.abort()
                raise
        index.record()
        if gone:
            with metadata.write() as conn:
                repository.delete_packed_in(conn, gone)
    return rewritten


def _moved(blobs: BlobStore, packer: Packer, pack: str, parts: list[tuple[int, int, str]],
           kept: set[str]) -> bool:
    """The kept files of ``pack`` copied into ``packer``'s packs; False (and the pack left
    as it is, still referenced) when a part cannot be read back whole."""
    keep = sorted(part for part in parts if part[2] in kept)
    try:
        moved = list(zip(keep, read_parts(blobs, pack, keep), strict=True))
    except (IntegrityError, NotFound):
        return False
    for (_, _, digest), data in moved:
        packer.add(digest, data)
    return True
