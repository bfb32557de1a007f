"""The model package: a folder of a flavor's files plus ``gannet-model.yaml`` describing them.

The manifest (``gannet.models.manifest``) lists the digest of every file; the registry signs
it, so a verified manifest plus ``verify_files`` vouches for every byte the loader will read.

Writing is atomic: a package is built in a hidden sibling folder and renamed into place, with
the manifest written last, so a crash never leaves a half-package that looks complete.

Loading uses only installed flavors, each with its own loader (never one the manifest
names). A package whose loading runs code of its own - a Python class the manifest names,
a plain pickle - loads only when the caller trusts it (``trust=True``); the registry does
so for a version whose signature verifies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from gannet.core.digests import digest_file
from gannet.core.errors import (
    AlreadyExists,
    GannetError,
    IntegrityError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from gannet.models import flavors
from gannet.models.manifest import INPUT_EXAMPLE, MANIFEST, ModelMeta
from gannet.models.mlmodel import write_mlflow_files
from gannet.models.signature import Signature, as_table, infer_signature

__all__ = [
    "LoadedModel", "NoPredictProba", "allowed_flavor", "load_package", "read_meta",
    "save_model", "seal", "staging", "verify_files",
]

class NoPredictProba(InvalidArgument, AttributeError):
    """The model gives no probabilities (also an AttributeError, so ``hasattr`` idioms work)."""


class LoadedModel:
    """A loaded package: ``predict`` checks input against the signature, then asks the flavor."""

    def __init__(self, meta: ModelMeta, raw: Any, flavor: flavors.Flavor) -> None:
        self.meta = meta
        self.raw = raw
        self.flavor = flavor
        self.has_predict_proba = bool(flavor.has_predict_proba(raw))
        signature = meta.signature
        self._check = signature.check_input if signature is not None else as_table

    def predict(self, data: Any) -> Any:
        return self.flavor.predict(self.raw, self._check(data))

    def predict_proba(self, data: Any) -> Any:
        if not self.has_predict_proba:
            raise NoPredictProba(
                f"this model (flavor {self.meta.flavor}, {type(self.raw).__name__}) has no "
                "predict_proba",
                hint="check LoadedModel.has_predict_proba first",
            )
        return self.flavor.predict_proba(self.raw, self._check(data))

    def __repr__(self) -> str:
        return f"<LoadedModel flavor={self.meta.flavor} raw={type(self.raw).__name__}>"


# -- saving ----------------------------------------------------------------------------------


def save_model(
    model: Any,
    path: str | os.PathLike,
    *,
    signature: Signature | None = None,
    input_example: Any = None,
    requirements: list[str] | None = None,
    run_id: str | None = None,
    flavor: str | None = None,
) -> ModelMeta:
    """Write ``model`` as a package at ``path`` (which must not exist, or be an empty folder)."""
    chosen = flavors.get(flavor) if flavor else flavors.detect(model)
    if isinstance(signature, dict):
        signature = Signature.from_dict(signature)
    dest = Path(path)
    with staging(dest) as folder:
        try:
            serialization, _, extra = _save(chosen, model, folder, input_example)
        except GannetError:
            raise
        except Exception as exc:
            raise InvalidArgument(
                f"cannot save this {type(model).__name__} with the {chosen.name} flavor: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        meta = ModelMeta(
            flavor=chosen.name,
            loader=chosen.loader,
            signature=None,
            python_version=platform.python_version(),
            libraries=chosen.libraries(),
            requirements=tuple(dict.fromkeys(
                [*chosen.requirements(), *extra.pop("requirements", []), *(requirements or [])]
            )),
            files={},
            run_id=run_id,
            serialization=serialization,
            created=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            extra=extra,
        )
        declared = signature or chosen.signature(model)
        if input_example is not None:
            (folder / INPUT_EXAMPLE).write_text(_example_json(input_example), encoding="utf-8")
            declared = _signature_from_example(chosen, folder, meta, declared, input_example)
        return seal(folder, dest, replace(meta, signature=declared))


def _save(
    flavor: flavors.Flavor, model: Any, folder: Path, example: Any
) -> tuple[str, list[str], dict[str, Any]]:
    """The flavor writes the model; one that needs the input example to do it (pytorch,
    to export the graph) says so with an ``example`` keyword of its ``save``."""
    if example is not None and "example" in inspect.signature(flavor.save).parameters:
        return flavor.save(model, folder, example=example)  # type: ignore[call-arg]
    return flavor.save(model, folder)


def _signature_from_example(
    flavor: flavors.Flavor, folder: Path, meta: ModelMeta, declared: Signature | None,
    example: Any,
) -> Signature:
    """The declared signature checked against the example, with outputs from predicting it."""
    inputs = declared.inputs if declared else infer_signature(example).inputs
    try:
        checked = Signature(inputs).check_input(example)
    except InvalidArgument as exc:
        raise InvalidArgument(f"the signature does not match the input example: {exc.message}",
                              hint=exc.hint) from exc
    if declared is not None and declared.outputs is not None:
        return declared
    try:
        output = flavor.predict(flavor.load(folder, meta), checked)
    except Exception as exc:
        raise InvalidArgument(
            f"the saved model cannot predict on its input example: {type(exc).__name__}: {exc}"
        ) from exc
    return Signature(inputs, infer_signature(output).inputs)


def _example_json(example: Any) -> str:
    """The example as a serving payload (MLflow's ``dataframe_split`` / ``inputs`` shapes)."""
    import numpy as np
    import pandas as pd

    example = as_table(example)
    if isinstance(example, pd.DataFrame):
        split = example.to_json(orient="split", index=False, date_format="iso")
        return f'{{"dataframe_split": {split}}}'
    if isinstance(example, dict):
        return json.dumps({"inputs": {k: np.asarray(v).tolist() for k, v in example.items()}})
    return json.dumps({"inputs": np.asarray(example).tolist()})


@contextlib.contextmanager
def staging(dest: Path) -> Iterator[Path]:
    """A fresh hidden folder beside ``dest`` to build a package in; removed if building fails."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise AlreadyExists(f"{dest} already exists and is not an empty folder",
                            hint="save the model to a new path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".saving", dir=dest.parent))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)


def seal(folder: Path, dest: Path, meta: ModelMeta) -> ModelMeta:
    """Add the MLflow files (``MLmodel``: MLflow's tools can load the package), digest every
    file, write the manifest last, then rename the folder into place."""
    write_mlflow_files(folder, meta)
    listed = _list_files(folder)
    links = [p for p in listed if (folder / p).is_symlink()]
    if links:
        raise InvalidArgument(f"a model package cannot hold symlinks: {', '.join(links)}")
    meta = replace(meta, files=_digest_all(folder, listed))
    (folder / MANIFEST).write_text(meta.to_yaml(), encoding="utf-8")
    if dest.is_dir():
        dest.rmdir()  # it was checked empty; a file appearing meanwhile makes this fail loudly
    try:
        folder.rename(dest)
    except OSError as exc:
        raise AlreadyExists(f"{dest} appeared while the model was being saved: {exc}") from exc
    return meta


# -- reading and verifying -------------------------------------------------------------------


def read_meta(path: str | os.PathLike) -> ModelMeta:
    if not Path(path).exists():
        raise NotFound(
            f"{str(path)!r} is neither a model reference nor a model package folder",
            hint="write a reference as name/<version> (churn/3), name@<alias> (churn@champion) "
            "or name@latest, or pass the folder a package was saved to",
        )
    manifest = Path(path) / MANIFEST
    if not manifest.is_file():
        mlflow = (Path(path) / "MLmodel").is_file()
        raise NotFound(
            f"{path} is not a Gannet model package: it has no {MANIFEST}",
            hint="it is an MLflow model: convert it with gannet.models.import_mlflow_model"
            if mlflow else "save_model writes packages",
        )
    return ModelMeta.from_yaml(manifest.read_text(encoding="utf-8"))


def verify_files(
    path: str | os.PathLike, meta: ModelMeta, *, unlisted_allowed: Collection[str] = ()
) -> None:
    """Every listed file is there with its digest and nothing else is (but the files named
    in ``unlisted_allowed``, if present), or IntegrityError."""
    root = Path(path)
    present = set(_list_files(root))
    problems = []
    for rel in sorted(meta.files):
        if rel not in present:
            problems.append(f"{rel} is missing")
        elif (root / rel).is_symlink():
            problems.append(f"{rel} is a symlink")
    checked = sorted(rel for rel in meta.files if rel in present and not (root / rel).is_symlink())
    for rel, digest in _digest_all(root, checked).items():
        if digest != meta.files[rel]:
            problems.append(f"{rel} has changed (its digest is {digest}, the manifest says "
                            f"{meta.files[rel]})")
    unlisted = sorted(present - meta.files.keys() - set(unlisted_allowed))
    problems += [f"{rel} is not listed in the manifest" for rel in unlisted]
    if problems:
        raise IntegrityError(
            f"model package {root} does not match its manifest: {'; '.join(problems)}",
            hint="the package was altered after it was saved; fetch or save it again",
        )


def _list_files(root: Path) -> list[str]:
    """Relative posix paths of every file and symlink under ``root``, except the manifest."""
    found = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root)
        found += [(base / d).as_posix() for d in dirs if (Path(folder) / d).is_symlink()]
        found += [(base / f).as_posix() for f in files]
    return sorted(p for p in found if p != MANIFEST)


def _digest_all(root: Path, paths: list[str]) -> dict[str, str]:
    if len(paths) <= 2:
        return {p: digest_file(root / p)[0] for p in paths}
    with ThreadPoolExecutor(max_workers=min(8, len(paths))) as pool:  # blake3 drops the GIL
        digests = pool.map(lambda p: digest_file(root / p)[0], paths)
        return dict(zip(paths, digests, strict=True))


# -- loading ---------------------------------------------------------------------------------


def load_package(
    path: str | os.PathLike, *, trust: bool = False, verify: bool = True
) -> LoadedModel:
    """Load the package folder at ``path``. (``gannet.models.load_model`` takes a folder or a
    reference.)

    Nothing is imported before the manifest's flavor is found among the installed flavors
    and its loader is that flavor's (``allowed_flavor``). The files are checked against the
    manifest unless ``verify=False``. A package whose loading runs code of its own (a Python
    class, a plain pickle) loads only with ``trust=True``: a folder carries no signature, so
    only the caller can vouch for it (the registry passes ``trust=True`` for a version
    whose signature verifies).
    """
    root = Path(path)
    meta = read_meta(root)
    flavor = allowed_flavor(meta, f"model package {root}")
    if verify:
        verify_files(root, meta)
    code = flavors.code_run_by(flavor, meta)
    if code is not None and not trust:
        raise PermissionDenied(
            f"model package {root} runs code when it loads ({code}), and a folder has no "
            "signature to vouch for it",
            hint="pass trust=True only if you trust where it came from (it runs code from the "
            "package), or register it and load it from the registry, where its signature "
            "is verified",
        )
    return LoadedModel(meta, flavor.load(root, meta), flavor)


def allowed_flavor(meta: ModelMeta, where: str) -> flavors.Flavor:
    """The installed flavor that loads ``meta``'s package, or an error, before any import.

    Only installed flavors (built-in, ``gannet.flavors`` entry points, ``flavors.register``)
    load packages, each with its own loader: the loader a manifest names is compared with
    the flavor's, never imported.
    """
    try:
        flavor = flavors.get(meta.flavor)
    except NotFound as exc:
        raise NotFound(
            f"{where} needs the {meta.flavor!r} flavor, which is not installed "
            f"(its loader is {meta.loader})",
            hint=f"install the package that provides it; requirements: "
            f"{', '.join(meta.requirements) or 'none recorded'}",
        ) from exc
    if meta.loader != flavor.loader:
        raise IntegrityError(
            f"{where} names the loader {meta.loader!r}, which is not the {flavor.name!r} "
            f"flavor's ({flavor.loader}); Gannet loads with the installed flavors' loaders "
            "only, never one a manifest names",
            hint="save (or log) the model again with this Gannet; a new loader comes from a "
            f"flavor installed through the {flavors.ENTRY_POINT_GROUP!r} entry point group",
        )
    return flavor
