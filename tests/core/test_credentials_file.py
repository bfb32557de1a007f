"""The credentials file ``gannet login`` writes, and where the ``token`` setting comes
from: an argument, ``GANNET_TOKEN``, gannet.toml, then the token kept for the server that
``uri`` names, then none."""

import stat
from pathlib import Path

import pytest

from gannet.core import credentials_file
from gannet.core.credentials_file import SavedLogin
from gannet.core.errors import SettingsError
from gannet.core.settings import Settings

URI = "http://gannet.internal:5005"


def load(tmp_path: Path, environ: dict[str, str], **arguments) -> Settings:
    return Settings.load(environ=environ, cwd=tmp_path, home=tmp_path / "home", **arguments)


def test_the_file_is_owner_only_and_keeps_one_login_per_server(tmp_path: Path):
    path = tmp_path / "config" / "gannet" / "credentials.json"
    credentials_file.save(path, URI + "/", SavedLogin("gnt_a", "ana", "01ab", 123))
    credentials_file.save(path, "http://other:5005", SavedLogin("gnt_b", "ben"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert credentials_file.saved_login(path, URI) == SavedLogin("gnt_a", "ana", "01ab", 123)
    credentials_file.save(path, URI, SavedLogin("gnt_c", "ana"))  # a new login replaces it
    assert credentials_file.forget(path, URI) == SavedLogin("gnt_c", "ana")
    assert credentials_file.saved_login(path, URI) is None
    assert credentials_file.forget(path, URI) is None
    assert credentials_file.saved_login(path, "http://other:5005").token == "gnt_b"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["credentials.json"]  # no leftovers


def test_its_default_place_is_the_users_config_folder(tmp_path: Path):
    assert credentials_file.default_path({"XDG_CONFIG_HOME": str(tmp_path)}) == \
        tmp_path / "gannet" / "credentials.json"
    assert credentials_file.default_path({}) == \
        Path.home() / ".config" / "gannet" / "credentials.json"
    assert load(tmp_path, {"XDG_CONFIG_HOME": str(tmp_path)}).credentials_file == \
        str(tmp_path / "gannet" / "credentials.json")


def test_the_token_comes_from_the_file_only_when_nothing_else_sets_it(tmp_path: Path):
    path = tmp_path / "credentials.json"
    credentials_file.save(path, URI, SavedLogin("gnt_saved", "ana"))
    env = {"GANNET_CREDENTIALS_FILE": str(path), "GANNET_URI": URI + "/"}
    saved = load(tmp_path, env)
    assert (saved.token, saved.sources["token"]) == ("gnt_saved", "credentials file")
    assert saved.described("token") == "the token saved by gannet login"
    from_env = load(tmp_path, {**env, "GANNET_TOKEN": "gnt_env"})
    assert (from_env.token, from_env.sources["token"]) == ("gnt_env", "environment")
    assert load(tmp_path, env, token="gnt_arg").token == "gnt_arg"
    (tmp_path / "gannet.toml").write_text('token = "gnt_toml"\n')
    assert load(tmp_path, env).token == "gnt_toml"
    (tmp_path / "gannet.toml").unlink()
    other = load(tmp_path, {**env, "GANNET_URI": "http://elsewhere:5005"})
    assert (other.token, other.sources["token"]) == ("", "default")
    embedded = load(tmp_path, {"GANNET_CREDENTIALS_FILE": str(path)})
    assert embedded.token == ""  # no server, no token


def test_a_damaged_file_is_named(tmp_path: Path):
    path = tmp_path / "credentials.json"
    path.write_text("{not json")
    with pytest.raises(SettingsError) as raised:
        load(tmp_path, {"GANNET_CREDENTIALS_FILE": str(path), "GANNET_URI": URI})
    assert str(path) in raised.value.message and "gannet login" in raised.value.hint
