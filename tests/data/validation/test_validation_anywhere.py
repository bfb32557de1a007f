"""``gannet.validate_data`` embedded and through a team server: the table is validated
where it is, the report stored and the active run tagged, the same either way."""

import pytest
from validation_tables import SUITE, people

from gannet.core.errors import InvalidArgument, NotFound


@pytest.fixture
def sdk(sdk_anywhere):
    return sdk_anywhere


def test_validate_data_stores_the_report_and_tags_the_active_run(sdk):
    with sdk.start_run(log_environment=False) as run:
        failed = sdk.validate_data(people(1200, bad=True), SUITE, dataset="people@1")
    assert not failed.passed
    assert sdk.get_run(run.info.run_id).data.tags["gannet.validation"] == "failed"
    passed = sdk.validate_data(people(1200), SUITE, dataset="people@2", run_id=run.info.run_id)
    assert passed.passed
    assert sdk.get_run(run.info.run_id).data.tags["gannet.validation"] == "passed"
    client = sdk.get_client()
    stored = client.search_data_validations(run_id=run.info.run_id)
    assert [(r.dataset, r.passed) for r in stored] == [("people@2", True), ("people@1", False)]
    assert stored[1].report == failed
    assert client.search_data_validations(dataset="people@1", max_results=1)[0].id == stored[1].id
    profile = client.profile_data(people(100))
    assert profile.rows == 100


def test_a_missing_run_is_refused(sdk):
    client = sdk.get_client()
    with pytest.raises(NotFound):
        client.validate_data(people(10), SUITE, run_id="0" * 32)
    with pytest.raises(InvalidArgument):
        client.search_data_validations(max_results=0)
    assert client.search_data_validations() == []


def test_the_server_refuses_what_is_not_a_report(sdk, backend):
    if backend != "remote":
        pytest.skip("the REST route's own check of a report sent to it")
    transport = sdk.get_client().services.validation.transport
    with pytest.raises(InvalidArgument, match="not a validation report"):
        transport.call("POST", "/api/v1/data/validations", json={"report": {"format": "x"}})
