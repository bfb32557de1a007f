"""The one settings object.

Precedence, highest first: arguments to ``Settings.load`` > ``GANNET_*`` environment
variables > ``gannet.toml`` > defaults; the ``token`` alone has one more source before
its default, the credentials file that ``gannet login`` writes (``credentials_file``).
``<home>`` is ``GANNET_HOME`` when set, else the ``.gannet`` folder beside the nearest
``gannet.toml`` found upward from the working directory, else ``~/.gannet``. The object
is built once at the edge (SDK, CLI, server) and passed down; nothing below reads the
environment itself.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gannet.core import credentials_file as saved_logins
from gannet.core.errors import SettingsError

CONFIG_FILE = "gannet.toml"
ENV_PREFIX = "GANNET_"
SAVED_LOGIN = "credentials file"  # the source of a token that gannet login saved


@dataclass(frozen=True)
class Settings:
    """Where Gannet keeps things and how it behaves. Build with ``Settings.load()``."""

    home: Path
    metadata_url: str = ""  # default: sqlite:///<home>/gannet.db
    artifacts_url: str = ""  # default: <home>/artifacts (any fsspec URL, e.g. s3://bucket/prefix)
    user: str = ""  # default: the login name
    lock_timeout: float = 30.0  # seconds to wait for another writer before giving up
    flush_interval: float = 0.2  # seconds between background flushes of buffered metrics
    buffer_size: int = 100_000  # metric points buffered before log_metric waits for a flush
    capture_environment: bool = True  # record packages, platform and git state per run
    progress: bool = True  # rich progress bars for long transfers
    transfer_threads: int = 8  # parallel hashing/upload of many files
    signing_key: str = ""  # default: <home>/keys/signing.key (ed25519; made when first needed)
    trusted_keys: str = ""  # default: <home>/keys/trusted (folders or .pub files, os.pathsep)
    allow_unsigned: bool = False  # load registry models whose signature cannot be verified
    experiment_name: str = ""  # the fluent API's experiment when none is set (created if new)
    experiment_id: str = ""  # the same, by id (experiment_name wins when both are set)
    inference_log_url: str = ""  # default: <home>/inference-log (a folder or any fsspec URL)
    inference_log_retention: str = ""  # e.g. 30d: older dates are deleted; empty: kept forever
    features_online_url: str = ""  # redis://host:6379/0 (default: a SQLite file in <home>)
    serving_access_log: bool = False  # gannet serve: one line per request on stderr
    serving_cors_origins: str = ""  # gannet serve: origins (comma-separated; *: any) for CORS
    serving_explain_max_rows: int = 100  # gannet serve: rows per /explain request (413 above)
    serving_explain_timeout: float = 5.0  # gannet serve: seconds an /explain may take (503)
    explain_max_rows: int = 10_000  # gannet models explain: held-out rows used (sampled above)
    fairness_min_group_size: int = 30  # gannet models fairness: smaller groups are "small"
    uri: str = ""  # a team server (http://host:5005): the SDK and CLI talk to it, not the stores
    token: str = ""  # the API token sent to that server (Authorization: Bearer)
    project: str = ""  # the project new experiments, models and deployments go to (default)
    server_max_body: int = 64 * 1024 * 1024  # gannet server: bytes of a JSON body (413 above)
    auth_cache_seconds: float = 2.0  # gannet server: how long a valid token is remembered
    controller_interval: float = 10.0  # gannet server: seconds between its controller's ticks
    scheduler_interval: float = 30.0  # gannet server: seconds between its scheduler's looks
    server_presigned_urls: bool = False  # gannet server: S3 artifacts go direct, by signed URLs
    credentials_file: str = ""  # default: ~/.config/gannet/credentials.json (gannet login)
    oidc_issuer: str = ""  # gannet server: the OpenID Connect provider's URL (empty: SSO off)
    oidc_client_id: str = ""  # this server's client id at that provider
    oidc_client_secret: str = ""  # its secret (empty for a public client)
    oidc_scopes: str = "openid profile email groups"  # asked of the provider
    oidc_groups_claim: str = "groups"  # the claim listing the groups (ID token, else userinfo)
    oidc_group_roles: str = ""  # group -> roles: "ml-team=vision:editor,default:reader; ops=admin"
    oidc_username_claim: str = "preferred_username"  # then email, then sub
    oidc_token_ttl: str = "12h"  # how long the API token of an SSO login is valid
    oidc_redirect_uri: str = ""  # default: <the URL the login came to>/api/v1/oidc/callback
    ui_launch_repositories: str = ""  # web UI: git repositories (URLs, prefixes/, *) to launch
    ui_inference_servers: str = ""  # web UI: "deployment=http://host:port,...; ..." (errors)
    ui_secret: str = ""  # signs web UI sessions (default: a key in <home>/keys/ui-session.key)
    config_file: Path | None = None  # the gannet.toml that was read, if any
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        **arguments: Any,
    ) -> Settings:
        """Resolve every setting by the precedence rule; ``sources`` says where each came from."""
        environ = os.environ if environ is None else environ
        cwd = Path.cwd() if cwd is None else cwd
        known = {f.name: f for f in fields(cls) if f.name not in ("sources", "config_file")}
        unknown = set(arguments) - set(known)
        if unknown:
            raise SettingsError(
                f"unknown setting(s): {', '.join(sorted(unknown))}",
                f"known settings are: {', '.join(sorted(known))}",
            )

        config_file = _find_config(cwd)
        from_file = _read_config(config_file, known) if config_file else {}
        from_env = {
            name: environ[ENV_PREFIX + name.upper()]
            for name in known
            if ENV_PREFIX + name.upper() in environ
        }
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for name in known:
            for source, layer in (
                ("argument", arguments),
                ("environment", from_env),
                (CONFIG_FILE, from_file),
            ):
                if name in layer and layer[name] is not None:
                    values[name] = _coerce(name, known[name].type, layer[name], source)
                    sources[name] = source
                    break
            else:
                sources[name] = "default"

        if "home" not in values:
            values["home"] = (
                config_file.parent / ".gannet" if config_file else Path.home() / ".gannet"
            )
        home = Path(values["home"]).expanduser().resolve()
        if home.exists() and not home.is_dir():
            raise SettingsError(
                f"the Gannet home {home} ({_described('home', sources['home'], config_file)}) "
                "is a file, not a folder",
                "point it at a folder (Gannet creates it if it does not exist), or move the "
                "file away",
            )
        _add_defaults(values, home, environ)
        _add_saved_token(values, sources)
        return cls(**values, config_file=config_file, sources=sources)

    def described(self, name: str) -> str:
        """A setting as the user set it: ``GANNET_HOME``, ``--home``, ``home in gannet.toml``."""
        return _described(name, self.sources.get(name, "default"), self.config_file)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _add_defaults(values: dict[str, Any], home: Path, environ: Mapping[str, str]) -> None:
    """The defaults that depend on the home (or on the environment's config folder)."""
    values["home"] = home
    values.setdefault("metadata_url", f"sqlite:///{home / 'gannet.db'}")
    values.setdefault("artifacts_url", str(home / "artifacts"))
    values.setdefault("user", _login_name())
    values.setdefault("signing_key", str(home / "keys" / "signing.key"))
    values.setdefault("trusted_keys", str(home / "keys" / "trusted"))
    values.setdefault("inference_log_url", str(home / "inference-log"))
    values.setdefault("credentials_file", str(saved_logins.default_path(environ)))


def _add_saved_token(values: dict[str, Any], sources: dict[str, str]) -> None:
    """The token ``gannet login`` kept for the ``uri`` server, when nothing else set one."""
    if "token" in values or not values.get("uri"):
        return
    saved = saved_logins.saved_login(Path(values["credentials_file"]).expanduser(),
                                     values["uri"])
    if saved is not None:
        values["token"] = saved.token
        sources["token"] = SAVED_LOGIN


def _described(name: str, source: str, config_file: Path | None) -> str:
    if source == SAVED_LOGIN:
        return f"the {name} saved by gannet login"
    if source == "environment":
        return ENV_PREFIX + name.upper()
    if source == "argument":
        return f"--{name.replace('_', '-')} (or {name}=)"
    if source == CONFIG_FILE:
        return f"{name} in {config_file}"
    return f"the default {name}"


def _find_config(cwd: Path) -> Path | None:
    for folder in (cwd, *cwd.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def _read_config(path: Path, known: Mapping[str, Any]) -> dict[str, Any]:
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(
            f"cannot read {path}: {exc}", "fix the TOML syntax or remove the file"
        ) from exc
    data: dict[str, Any] = document.get("gannet", document)  # a [gannet] table or top-level
    unknown = set(data) - set(known)
    if unknown:
        raise SettingsError(
            f"{path}: unknown setting(s) {', '.join(sorted(unknown))}",
            f"known settings are: {', '.join(sorted(known))}",
        )
    if "home" in data:  # a relative home is relative to the file, not to the working directory
        data["home"] = str((path.parent / Path(data["home"]).expanduser()).resolve())
    return data


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, type_: Any, value: Any, source: str) -> Any:
    type_name = type_ if isinstance(type_, str) else getattr(type_, "__name__", str(type_))
    try:
        if type_name == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError(f"expected one of {sorted(_TRUE | _FALSE)}")
        if type_name == "int":
            return int(value)
        if type_name == "float":
            return float(value)
        if type_name == "Path":
            return Path(str(value)).expanduser()
        return str(value)
    except ValueError as exc:
        where = ENV_PREFIX + name.upper() if source == "environment" else f"{name} ({source})"
        raise SettingsError(
            f"setting {where} has the invalid value {value!r}: {exc}",
            f"give {name} a valid {type_name}",
        ) from exc


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
