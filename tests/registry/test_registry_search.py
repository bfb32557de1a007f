"""The registry searched in MLflow's registry languages, tags removed, a version's files
read one by one, and a version that records the source its registrant named."""

import pytest

from gannet.core.errors import InvalidArgument, NotFound
from gannet.models.manifest import MANIFEST


@pytest.fixture
def registry(sdk):
    return sdk.get_client().services.registry


def test_models_and_versions_are_searched_in_mlflows_language(registry, trained):
    for name, team in (("churn", "risk"), ("churn-eu", "growth"), ("fraud", "risk")):
        registry.create_registered_model(name, tags={"team": team})
    assert [m.name for m in registry.search_registered_models(
        filter_string="name LIKE 'churn%' AND tags.team = 'risk'")] == ["churn"]
    assert [m.name for m in registry.search_registered_models(
        filter_string="tags.team = 'risk'", order_by=["name DESC"])] == ["fraud", "churn"]
    assert [m.name for m in registry.search_registered_models("churn%")] == [
        "churn", "churn-eu"]
    with pytest.raises(InvalidArgument, match="registered model searches have no params"):
        registry.search_registered_models(filter_string="params.x = '1'")

    for name in ("churn", "churn", "fraud"):
        registry.register_model(f"runs:/{trained.run_id}/model", name, tags={"by": name})
    found = registry.search_model_versions(filter_string=f"run_id = '{trained.run_id}'")
    assert [(v.name, v.version) for v in found] == [("churn", 2), ("churn", 1), ("fraud", 1)]
    assert [(v.name, v.version) for v in registry.search_model_versions(
        filter_string="name = 'churn' AND version_number > 1")] == [("churn", 2)]
    assert registry.search_model_versions(filter_string="name = 'nothing'") == []
    assert [v.version for v in registry.search_model_versions(
        "churn", order_by=["version_number ASC"])] == [1, 2]
    with pytest.raises(NotFound):
        registry.search_model_versions("nothing")


def test_tags_are_removed_and_a_version_records_the_source_it_was_given(registry, trained):
    registry.create_registered_model("m", tags={"a": "1", "b": "2"})
    assert registry.update_registered_model("m", delete_tags=["a", "absent"]).tags == {"b": "2"}
    version = registry.register_model(f"runs:/{trained.run_id}/model", "m", tags={"x": "1"},
                                      source_uri="models:/m-0123")
    assert (version.source, version.run_id) == ("models:/m-0123", trained.run_id)
    changed = registry.update_model_version("m", 1, tags={"y": "2"}, delete_tags=["x"])
    assert changed.tags == {"y": "2"}

    files = dict((p, size) for p, _, size in registry.version_files("m", 1))
    assert MANIFEST in files and "MLmodel" in files
    reader, size = registry.open_version_file("m", 1, MANIFEST)
    with reader:
        assert len(reader.read()) == size == files[MANIFEST]
    with pytest.raises(NotFound, match="no file"):
        registry.open_version_file("m", 1, "nothing.txt")
