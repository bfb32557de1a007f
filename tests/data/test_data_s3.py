"""With an S3 artifacts store (moto's real S3 server): versions are added to it, the local
cache fills on demand, checkout and open verify what they download, gc frees blobs."""

import json

import pandas as pd
import pytest
from data_files import make_tree


@pytest.fixture
def s3_settings(settings, s3_endpoint, monkeypatch):
    for name, value in (("AWS_ENDPOINT_URL", s3_endpoint.endpoint_url),
                        ("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    return settings.replace(artifacts_url=s3_endpoint.url())


@pytest.fixture
def s3_data_json(s3_settings, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from gannet.cli.app import app

    monkeypatch.chdir(tmp_path)
    stores = ["--home", str(s3_settings.home), "--metadata-url", s3_settings.metadata_url,
              "--artifacts-url", s3_settings.artifacts_url]

    def invoke(*args):
        result = CliRunner().invoke(app, [*stores, "data", *map(str, args), "--json"])
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)

    return invoke


def test_versions_on_s3_fill_the_local_cache_on_demand(s3_data_json, tmp_path):
    src = make_tree(tmp_path / "src", {"a.txt": "alpha", "sub/b.txt": "beta"})
    pd.DataFrame({"id": [1, 2]}).to_parquet(src / "t.parquet")
    first = s3_data_json("add", src, "--name", "remote")
    assert first["created"] and first["file_count"] == 3
    assert not s3_data_json("add", src, "--name", "remote")["created"]
    pulled = s3_data_json("pull", "remote@1")
    assert sorted(p.name for p in (tmp_path / pulled["path"]).iterdir()) == [
        "a.txt", "sub", "t.parquet"]
    out = tmp_path / "out"
    done = s3_data_json("checkout", "remote@1", out)
    assert (done["written"], done["reflinked"]) == (3, 0)
    assert (out / "sub/b.txt").read_text() == "beta"
    (src / "a.txt").write_text("changed")
    s3_data_json("add", src, "--name", "remote")
    changes = s3_data_json("diff", "remote@1", "remote@2")
    assert [c["path"] for c in changes["changed"]] == ["a.txt"]
