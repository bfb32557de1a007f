"""``/api/v1`` model package routes: the signing keys' public halves, and a package's
upload (to register a folder a client holds) and download (to load a version there).

- ``GET /signing-keys``: the public keys the server trusts (PEM), marking the one it signs
  with. Never a private key, never a path on the server. The key itself is made on the
  server's machine (at its first registration, or ``gannet keys create`` there), never
  through the API.
- ``POST /model-packages/missing``: of the digests a client holds, the ones the server
  lacks; each is then uploaded as any blob is (``PUT /blobs/{digest}``, streamed, kept
  only if its bytes hash to the digest: see ``gannet.server.routes.artifacts``).
- ``GET .../versions/{version}/package``: the version's file list (path -> digest, size,
  mode); ``.../package/{path}`` one file, streamed. A client checks the files against the
  signed manifest and the signature against trusted keys: the server is not trusted to
  have sent the right bytes, only asked for them.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from gannet.registry.types import SigningKey
from gannet.server import shapes
from gannet.server.deps import API_PREFIX, ServicesDep, answer, streamed
from gannet.server.routes.registry import VERSION

router = APIRouter(prefix=API_PREFIX, tags=["registry"])


class Digests(BaseModel):
    digests: list[str] = Field(max_length=100_000)


@router.get("/signing-keys", summary="The public keys the server trusts (PEM)",
            response_model=shapes.SIGNING_KEYS)
def list_signing_keys(services: ServicesDep) -> Response:
    keys = services.registry.list_signing_keys()
    return answer({"signing_keys": [_public(k) for k in keys]})


def _public(key: SigningKey) -> dict[str, object]:
    """A signing key as the API shows it: id, whether the server signs with it, the PEM."""
    return {"key_id": key.key_id, "is_signing_key": key.is_signing_key,
            "public_key": key.public_key}


@router.post("/model-packages/missing", summary="Which of these blobs the server lacks",
             response_model=shapes.MISSING)
def missing_blobs(body: Digests, services: ServicesDep) -> Response:
    return answer({"missing": services.registry.missing_blobs(body.digests)})


@router.get(VERSION + "/package", summary="The files of a version's package",
            response_model=shapes.PACKAGE_FILES)
def package_manifest(name: str, version: int, services: ServicesDep) -> Response:
    manifest = services.registry.package_manifest(name, version)
    files = [{"path": p, "digest": e.digest, "size": e.size, "mode": e.mode}
             for p, e in manifest.entries.items()]
    return answer({"files": files})


@router.get(VERSION + "/package/{path:path}", summary="One file of a version's package",
            **shapes.not_json("application/octet-stream", description="the file's bytes"))
def package_file(name: str, version: int, path: str, services: ServicesDep) -> Response:
    reader, size = services.registry.open_package_file(name, version, path)
    return streamed(reader, size)
