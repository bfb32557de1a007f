"""Settings precedence: arguments > GANNET_* environment > gannet.toml > defaults."""

from pathlib import Path

import pytest

from gannet.core.errors import SettingsError
from gannet.core.settings import Settings


def test_defaults_put_everything_under_home_in_the_user_folder(tmp_path: Path):
    s = Settings.load(environ={}, cwd=tmp_path)
    assert s.home == Path.home().resolve() / ".gannet"
    assert s.metadata_url == f"sqlite:///{s.home / 'gannet.db'}"
    assert s.artifacts_url == str(s.home / "artifacts")
    assert s.sources["metadata_url"] == "default"


def test_gannet_toml_upward_makes_a_project_home(tmp_path: Path):
    (tmp_path / "gannet.toml").write_text('lock_timeout = 5\nuser = "ana"\n')
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    s = Settings.load(environ={}, cwd=nested)
    assert s.home == tmp_path.resolve() / ".gannet"
    assert s.lock_timeout == 5.0
    assert s.user == "ana"
    assert s.sources["user"] == "gannet.toml"
    assert s.config_file == tmp_path / "gannet.toml"


def test_environment_beats_file_and_arguments_beat_environment(tmp_path: Path):
    (tmp_path / "gannet.toml").write_text('user = "file"\nprogress = true\n')
    env = {"GANNET_USER": "env", "GANNET_PROGRESS": "false", "GANNET_HOME": str(tmp_path / "h")}
    s = Settings.load(environ=env, cwd=tmp_path)
    assert (s.user, s.progress, s.home) == ("env", False, (tmp_path / "h").resolve())
    s = Settings.load(environ=env, cwd=tmp_path, user="arg")
    assert s.user == "arg"
    assert s.sources["user"] == "argument"
    assert s.sources["progress"] == "environment"


def test_bad_values_name_the_variable(tmp_path: Path):
    with pytest.raises(SettingsError, match=r"GANNET_LOCK_TIMEOUT.*'soon'"):
        Settings.load(environ={"GANNET_LOCK_TIMEOUT": "soon"}, cwd=tmp_path)
    (tmp_path / "gannet.toml").write_text("colour = 'blue'\n")
    with pytest.raises(SettingsError, match=r"unknown setting.*colour"):
        Settings.load(environ={}, cwd=tmp_path)
    (tmp_path / "gannet.toml").write_text("user = \n")
    with pytest.raises(SettingsError, match="cannot read"):
        Settings.load(environ={}, cwd=tmp_path)
    with pytest.raises(SettingsError, match=r"unknown setting"):
        Settings.load(environ={}, cwd=tmp_path / "..", colour="x")


def test_relative_home_in_toml_is_relative_to_the_file(tmp_path: Path):
    (tmp_path / "gannet.toml").write_text('home = "store"\n')
    sub = tmp_path / "a"
    sub.mkdir()
    assert Settings.load(environ={}, cwd=sub).home == (tmp_path / "store").resolve()
