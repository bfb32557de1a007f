"""Deployments end to end on both metadata backends, with a real registered model."""

import math
import threading

import pytest
import sqlalchemy as sa
from iris_models import register_iris

from gannet.bootstrap import build
from gannet.core.errors import AlreadyExists, Conflict, InvalidArgument, InvalidState, NotFound
from gannet.serving.deployments import (
    DeploymentService,
    DeploymentSource,
    Route,
    traffic_shares,
)


@pytest.fixture
def sdk(sdk_anywhere):
    """Each test runs embedded and through a team server (``sdk_anywhere``)."""
    return sdk_anywhere


@pytest.fixture
def embedded_only(backend):
    """For tests that look inside the service (its private lock, its SQL statements)."""
    if backend == "remote":
        pytest.skip("looks inside the embedded service: nothing of it runs in the client")


@pytest.fixture
def iris_run(sdk) -> str:
    """Model ``iris`` at versions 1 and 2 (one run's model, registered twice)."""
    return register_iris(sdk, "iris", versions=2)


@pytest.fixture
def services(sdk, iris_run):
    return sdk.get_client().services


@pytest.fixture
def deployments(services) -> DeploymentService:
    return services.deployments


def routes_of(state) -> dict[str, float]:
    return {r.ref: r.weight for r in state.routes}


def test_create_routes_to_champion_else_latest_and_is_a_deployment_source(services):
    deployments = services.deployments
    first = deployments.create_deployment("iris-api", "iris", description="the iris endpoint")
    assert routes_of(first) == {"iris@latest": 1.0}
    assert (first.revision, first.updated_by, first.model) == (1, services.settings.user, "iris")
    services.registry.set_registered_model_alias("iris", "champion", 1)
    second = deployments.create_deployment("iris-b", "iris", reason="second endpoint")
    assert routes_of(second) == {"iris@champion": 1.0}
    assert second.reason == "second endpoint"
    source: DeploymentSource = deployments
    assert source.get_deployment_state("iris-api") == first
    info = deployments.get_deployment("iris-api")
    assert info.description == "the iris endpoint"
    assert info.resolved == {"iris@latest": 2}
    assert [s.name for s in deployments.list_deployments()] == ["iris-api", "iris-b"]
    assert deployments.list_deployments(model="nope") == []
    entry = services.auth.search_audit_log("deployment:iris-api")[0]
    assert (entry.action, entry.user_id) == ("deployment.create", services.settings.user)
    assert entry.detail["model"] == "iris"
    assert entry.detail["to"]["routes"] == {"iris@latest": 1.0}


def test_route_keys_are_versions_refs_or_aliases_normalised(services, deployments):
    services.registry.set_registered_model_alias("iris", "champion", 2)
    state = deployments.create_deployment("iris-api", "iris", {"1": 3, 2: 1})
    assert routes_of(state) == {"iris/1": 3.0, "iris/2": 1.0}
    assert traffic_shares(state.routes) == {"iris/1": 75.0, "iris/2": 25.0}
    state = deployments.set_deployment_traffic("iris-api", {"@champion": 2, "models:/iris/1": 2})
    assert routes_of(state) == {"iris@champion": 2.0, "iris/1": 2.0}
    state = deployments.set_deployment_traffic("iris-api", {"v2": 1, "iris@latest": 3})
    assert routes_of(state) == {"iris/2": 1.0, "iris@latest": 3.0}


def test_canary_shadow_sticky_log_fields_each_make_a_revision_with_an_audit_entry(
    services, deployments
):
    user = services.settings.user
    deployments.create_deployment("iris-api", "iris", {"iris/1": 1})
    canary = deployments.set_deployment_traffic(
        "iris-api", {"iris/1": 90, "iris/2": 10}, reason="canary"
    )
    assert routes_of(canary) == {"iris/1": 90.0, "iris/2": 10.0}
    assert traffic_shares(canary.routes) == {"iris/1": 90.0, "iris/2": 10.0}
    shadowed = deployments.set_deployment_shadows(
        "iris-api", ["iris@latest"], reason="watch latest"
    )
    assert shadowed.shadows == ("iris@latest",)
    assert routes_of(shadowed) == routes_of(canary)
    sticky = deployments.set_deployment_sticky_key("iris-api", "user_id", reason="A/B by user")
    assert sticky.sticky_key == "user_id"
    logged = deployments.set_deployment_log_fields(
        "iris-api", masked=["sepal length (cm)"], hashed=("petal width (cm)",), reason="PII"
    )
    assert logged.log_masked == ("sepal length (cm)",)
    assert logged.log_hashed == ("petal width (cm)",)
    assert (logged.shadows, logged.sticky_key) == (("iris@latest",), "user_id")

    history = deployments.get_deployment_history("iris-api")
    assert [s.revision for s in history] == [5, 4, 3, 2, 1]
    assert [s.reason for s in history] == ["PII", "A/B by user", "watch latest", "canary", ""]
    assert {s.updated_by for s in history} == {user}
    assert history[0] == deployments.get_deployment_state("iris-api") == logged
    assert history[3] == canary

    entries = services.auth.search_audit_log("deployment:iris-api")
    assert [e.action for e in entries] == [
        "deployment.log_fields",
        "deployment.sticky",
        "deployment.shadow",
        "deployment.traffic",
        "deployment.create",
    ]
    traffic = entries[3]
    assert traffic.detail["from"] == {"routes": {"iris/1": 1.0}}
    assert traffic.detail["to"] == {"routes": {"iris/1": 90.0, "iris/2": 10.0}}
    assert (traffic.detail["reason"], traffic.detail["revision"]) == ("canary", 2)
    assert entries[2].detail["to"] == {"shadows": ["iris@latest"]}
    assert entries[1].detail["from"] == {"sticky_key": None}
    assert all(e.user_id == user and e.target == "deployment:iris-api" for e in entries)


def test_clearing_shadows_and_sticky_key_and_routing_a_shadow(deployments):
    deployments.create_deployment("iris-api", "iris", {"1": 1}, sticky_key="X-User")
    deployments.set_deployment_shadows("iris-api", ["2"])
    assert deployments.set_deployment_shadows("iris-api", None).shadows == ()
    deployments.set_deployment_shadows("iris-api", ["2"])
    assert deployments.set_deployment_shadows("iris-api", []).shadows == ()
    deployments.set_deployment_shadows("iris-api", [2])
    promoted = deployments.set_deployment_traffic("iris-api", {"1": 50, "2": 50})
    assert promoted.shadows == ()  # a ref that gets traffic stops being a shadow
    assert deployments.set_deployment_sticky_key("iris-api", None).sticky_key is None


def test_a_change_that_changes_nothing_writes_no_revision(services, deployments):
    deployments.create_deployment("iris-api", "iris", {"1": 1})
    deployments.set_deployment_traffic("iris-api", {"2": 1})
    again = deployments.set_deployment_traffic("iris-api", {"iris/2": 1}, reason="same again")
    assert again.revision == 2
    assert len(deployments.get_deployment_history("iris-api")) == 2
    assert len(services.auth.search_audit_log("deployment:iris-api")) == 2


def test_rollback_writes_the_previous_state_as_a_new_revision(services, deployments):
    deployments.create_deployment("iris-api", "iris", {"1": 1})
    deployments.set_deployment_traffic("iris-api", {"1": 90, "2": 10}, reason="canary")
    back = deployments.rollback_deployment("iris-api", reason="canary errors")
    assert (back.revision, routes_of(back), back.reason) == (3, {"iris/1": 1.0}, "canary errors")
    assert deployments.get_deployment_state("iris-api") == back
    # rolling back again returns to where the first rollback started (like `cd -`)
    forth = deployments.rollback_deployment("iris-api")
    assert (forth.revision, routes_of(forth)) == (4, {"iris/1": 90.0, "iris/2": 10.0})
    to_first = deployments.rollback_deployment("iris-api", "start over", to=1)
    assert (to_first.revision, routes_of(to_first)) == (5, {"iris/1": 1.0})
    assert [s.revision for s in deployments.get_deployment_history("iris-api")] == [5, 4, 3, 2, 1]
    entry = services.auth.search_audit_log("deployment:iris-api")[0]
    assert entry.action == "deployment.rollback"
    assert (entry.detail["restored_revision"], entry.detail["from_revision"]) == (1, 4)
    assert entry.detail["reason"] == "start over"
    with pytest.raises(InvalidArgument, match="cannot roll 'iris-api' back to revision 5"):
        deployments.rollback_deployment("iris-api", to=5)
    with pytest.raises(InvalidArgument, match="back to revision 0"):
        deployments.rollback_deployment("iris-api", to=0)


def test_rollback_needs_an_earlier_revision_whose_refs_still_resolve(services, deployments):
    deployments.create_deployment("iris-api", "iris", {"1": 1})
    with pytest.raises(InvalidState, match="only one revision: nothing to roll back to"):
        deployments.rollback_deployment("iris-api")
    services.registry.set_registered_model_alias("iris", "challenger", 2)
    deployments.set_deployment_traffic("iris-api", {"@challenger": 1})
    deployments.set_deployment_traffic("iris-api", {"1": 1})
    services.registry.delete_registered_model_alias("iris", "challenger")
    with pytest.raises(NotFound, match="no version at 'challenger'"):
        deployments.rollback_deployment("iris-api")
    assert deployments.get_deployment_state("iris-api").revision == 3


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (0, "finite number > 0, got 0"),
        (-5, "finite number > 0, got -5"),
        (math.nan, "finite number > 0, got nan"),
        (math.inf, "finite number > 0, got inf"),
        ("10", "must be a number, got '10'"),
        (True, "must be a number, got True"),
    ],
)
def test_weights_must_be_finite_positive_numbers(deployments, weight, message):
    with pytest.raises(InvalidArgument, match=message):
        deployments.create_deployment("iris-api", "iris", {"1": weight})
    deployments.create_deployment("iris-api", "iris", {"1": 1})
    with pytest.raises(InvalidArgument, match=message):
        deployments.set_deployment_traffic("iris-api", {"1": 50, "2": weight})
    assert len(deployments.get_deployment_history("iris-api")) == 1  # nothing written


def test_validation_errors_say_what_and_which(services, deployments, iris_run):
    registry = services.registry
    registry.register_model(iris_run, "other")
    with pytest.raises(NotFound, match="no registered model named 'nope'"):
        deployments.create_deployment("x", "nope")
    with pytest.raises(InvalidArgument, match="refers to model 'other', but the deployment"):
        deployments.create_deployment("x", "iris", {"other/1": 1})
    with pytest.raises(InvalidArgument, match="invalid deployment name"):
        deployments.create_deployment("bad name!", "iris")
    with pytest.raises(InvalidArgument, match="routes must map refs to weights"):
        deployments.create_deployment("x", "iris", {})
    with pytest.raises(InvalidArgument, match="cannot read 'champion' as a reference"):
        deployments.create_deployment("x", "iris", {"champion": 1})
    with pytest.raises(InvalidArgument, match="iris/1 is listed twice"):
        deployments.create_deployment("x", "iris", {"1": 1, "iris/1": 1})
    with pytest.raises(InvalidArgument, match="versions start at 1"):
        deployments.create_deployment("x", "iris", {0: 1})
    with pytest.raises(InvalidArgument, match="invalid sticky key"):
        deployments.create_deployment("x", "iris", sticky_key="no spaces")
    with pytest.raises(NotFound, match="has no version 9"):
        deployments.create_deployment("x", "iris", {"iris/9": 1})
    with pytest.raises(NotFound, match="no version at 'canary'"):
        deployments.create_deployment("x", "iris", {"@canary": 1})
    assert deployments.list_deployments() == []

    deployments.create_deployment("iris-api", "iris", {"1": 1})
    with pytest.raises(AlreadyExists, match="deployment 'iris-api' already exists"):
        deployments.create_deployment("iris-api", "iris")
    with pytest.raises(InvalidArgument, match="refers to model 'other'"):
        deployments.set_deployment_traffic("iris-api", {"other@latest": 1})
    with pytest.raises(InvalidArgument, match="iris/1 already serve traffic"):
        deployments.set_deployment_shadows("iris-api", ["1"])
    with pytest.raises(InvalidArgument, match="refers to model 'other'"):
        deployments.set_deployment_shadows("iris-api", ["other/1"])
    with pytest.raises(InvalidArgument, match="cannot be both masked and hashed"):
        deployments.set_deployment_log_fields("iris-api", masked=["email"], hashed=["email"])
    registry.archive_model_version("iris", 2)
    with pytest.raises(InvalidState, match="iris/2 is archived"):
        deployments.set_deployment_traffic("iris-api", {"2": 1})
    assert deployments.get_deployment_state("iris-api").revision == 1

    for call in (
        lambda: deployments.get_deployment_state("nope"),
        lambda: deployments.get_deployment("nope"),
        lambda: deployments.get_deployment_history("nope"),
        lambda: deployments.set_deployment_traffic("nope", {"1": 1}),
        lambda: deployments.set_deployment_shadows("nope", None),
        lambda: deployments.set_deployment_sticky_key("nope", "k"),
        lambda: deployments.set_deployment_log_fields("nope"),
        lambda: deployments.rollback_deployment("nope"),
        lambda: deployments.delete_deployment("nope"),
    ):
        with pytest.raises(NotFound, match="no deployment named 'nope'") as info:
            call()
        assert info.value.hint == "list them: gannet deployments list"


def test_delete_removes_the_deployment_and_its_history(services, deployments):
    deployments.create_deployment("iris-api", "iris", {"1": 1})
    deployments.set_deployment_traffic("iris-api", {"2": 1})
    deployments.delete_deployment("iris-api")
    with pytest.raises(NotFound):
        deployments.get_deployment_state("iris-api")
    entry = services.auth.search_audit_log("deployment:iris-api")[0]
    assert entry.action == "deployment.delete"
    assert entry.detail["from"]["routes"] == {"iris/2": 1.0}
    assert deployments.create_deployment("iris-api", "iris", {"1": 1}).revision == 1
    assert len(deployments.get_deployment_history("iris-api")) == 1


def test_two_writers_at_once_make_distinct_revisions(services, settings):
    services.deployments.create_deployment("iris-api", "iris", {"1": 1, "2": 1})
    other = build(settings)  # a second process's services: its own engine and pool
    writers = [services.deployments, other.deployments]
    made: list[list[int]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(index: int) -> None:
        try:
            start.wait()
            for i in range(6):  # every target state differs, so none is skipped as a no-op
                weights = {"1": 10 + i, "2": 1} if index == 0 else {"1": 1, "2": 20 + i}
                state = writers[index].set_deployment_traffic("iris-api", weights)
                made[index].append(state.revision)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    other.close()
    assert errors == []
    revisions = made[0] + made[1]
    assert sorted(revisions) == list(range(2, 14))  # 12 changes: 12 distinct revisions
    history = services.deployments.get_deployment_history("iris-api")
    assert [s.revision for s in history] == list(range(13, 0, -1))
    current = services.deployments.get_deployment_state("iris-api")
    assert current == history[0]
    last = 0 if made[0][-1] == 13 else 1  # whoever wrote last wrote the current state
    expected = {"iris/1": 15.0, "iris/2": 1.0} if last == 0 else {"iris/1": 1.0, "iris/2": 25.0}
    assert routes_of(current) == expected
    assert len(services.auth.search_audit_log("deployment:iris-api", limit=100)) == 13


def test_a_stale_writer_gets_a_conflict_not_a_second_revision(
    deployments, monkeypatch, embedded_only
):
    deployments.create_deployment("iris-api", "iris", {"1": 1})
    deployments.set_deployment_traffic("iris-api", {"2": 1})
    stale = deployments.get_deployment_history("iris-api")[1]  # revision 1, read too early
    monkeypatch.setattr(deployments, "_lock", lambda conn, name: stale)
    with pytest.raises(Conflict, match="changed by someone else at the same time"):
        deployments.set_deployment_traffic("iris-api", {"1": 5, "2": 5})
    monkeypatch.undo()
    assert [s.revision for s in deployments.get_deployment_history("iris-api")] == [2, 1]
    assert routes_of(deployments.get_deployment_state("iris-api")) == {"iris/2": 1.0}


def test_get_deployment_state_is_one_query_by_primary_keys(
    services, deployments, embedded_only
):
    deployments.create_deployment("iris-api", "iris", {"1": 1})
    engine = services.metadata.engine
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        state = deployments.get_deployment_state("iris-api")
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert state.routes == (Route("iris/1", 1.0),)
    queries = [s for s in statements if "deployment" in s]
    assert len(queries) == 1
    assert "deployment_revisions" in queries[0] and "JOIN" in queries[0]
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {queries[0]}", ("iris-api",)).all()
        details = " | ".join(row[-1] for row in plan)
        assert "SCAN" not in details, details
        assert details.count("SEARCH") == 2, details
