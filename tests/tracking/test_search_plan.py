"""Run search SQL on real databases (SQLite and PostgreSQL): right answers, indexed plans.

A small hand-made database checks every operator and entity against answers written out
by hand; a 100,000-run database checks the plans (never the clock: the benchmark,
``bench/tracking.py --scale``, keeps the figures): ``metrics.m0 > 0.9 ORDER BY metrics.m0
DESC`` is answered from ``ix_latest_metrics_key_value``, the newest-first page and the
filters on it from ``ix_runs_experiment_id_lifecycle_stage_start_time_run_id`` (read
backwards, each filter probed per run), a rare param value from
``ix_params_key_value_run_id``, and none of them scans a whole table.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, closing

import pytest
import sqlalchemy as sa

import gannet.tracking.tables as t  # registers the tables before the store migrates
from gannet.core.errors import InvalidArgument
from gannet.store.metadata import MetadataStore
from gannet.testing.fixtures import _database_or_skip as database_or_skip
from gannet.tracking import repository
from gannet.tracking.query import like_to_glob, parse_filter, parse_order_by, search_statement


@pytest.fixture
def store(metadata_url: str) -> Iterator[MetadataStore]:
    store = MetadataStore(metadata_url).open()
    store.upgrade()
    yield store
    store.close()


def run_row(run_id: str, start: int, **fields: object) -> dict[str, object]:
    row: dict[str, object] = dict(
        run_id=run_id, experiment_id="1", name=run_id, status="FINISHED", start_time=start,
        end_time=None, parent_run_id=None, user_id="ann", source_name="train.py",
        source_type="LOCAL", git_commit=None, lifecycle_stage="active",
        artifact_uri=f"file:///artifacts/{run_id}",
    )
    row.update(fields)
    return row


def metric_row(run_id: str, key: str, value: float | None) -> dict[str, object]:
    return dict(run_id=run_id, key=key, value=value, is_nan=value is None, timestamp=0, step=0)


def add_experiments(conn: sa.Connection) -> None:
    conn.execute(t.experiments.insert(), [
        dict(experiment_id=e, name=f"exp-{e}", artifact_location="file:///a",
             lifecycle_stage="active", creation_time=0, last_update_time=0)
        for e in ("1", "2")
    ])


# r1..r6 of experiments 1 and 2 (r5 deleted). NaN metrics are value NULL, is_nan true.
RUNS = [
    run_row("r1", 100, name="Alpha", end_time=200),
    run_row("r2", 200, name="alpha-2", status="FAILED", user_id="bob"),
    run_row("r3", 300, name="beta", status="RUNNING", parent_run_id="r1"),
    run_row("r4", 400, name="gamma", end_time=500, user_id="carol", experiment_id="2"),
    run_row("r5", 150, name="deleted", end_time=160, lifecycle_stage="deleted"),
    run_row("r6", 200, name="no metrics", status="KILLED", end_time=260, user_id="dan",
            git_commit="abc123"),
]
METRICS = [
    metric_row("r1", "acc", 0.9), metric_row("r1", "loss", 0.1),
    metric_row("r2", "acc", 0.5), metric_row("r2", "loss", None),
    metric_row("r3", "acc", None),
    metric_row("r4", "acc", 0.7),
    metric_row("r5", "acc", 0.99),
]
PARAMS = [
    ("r1", "opt", "adam"), ("r1", "lr", "0.1"),
    ("r2", "opt", "sgd"), ("r2", "lr", "0.01"),
    ("r3", "opt", "Adam"),
    ("r4", "opt", "adam"), ("r4", "lr", "0.3"), ("r4", "model.depth", "3"),
    ("r5", "opt", "adam"),
]
TAGS = [
    ("r1", "team", "Vision"), ("r1", "note", "a*b[c]?"),
    ("r2", "team", "vision"),
    ("r4", "team", "50%_off"), ("r4", "my-tag", "x"),
]
ALL_ACTIVE = {"r1", "r2", "r3", "r4", "r6"}


@pytest.fixture
def small(store: MetadataStore) -> MetadataStore:
    with store.write() as conn:
        add_experiments(conn)
        conn.execute(t.runs.insert(), RUNS)
        conn.execute(t.latest_metrics.insert(), METRICS)
        conn.execute(t.params.insert(), [dict(run_id=r, key=k, value=v) for r, k, v in PARAMS])
        conn.execute(t.tags.insert(), [dict(run_id=r, key=k, value=v) for r, k, v in TAGS])
    return store


def search(
    store: MetadataStore,
    text: str | None = None,
    order: Sequence[str] | None = None,
    *,
    lifecycle: str = "active",
    experiments: Sequence[str] = ("1", "2"),
    limit: int = 100,
    offset: int = 0,
) -> list[str]:
    statement = search_statement(
        list(experiments), parse_filter(text), parse_order_by(order), lifecycle, limit, offset
    )
    with store.read() as conn:
        return list(conn.execute(statement).scalars())


def assert_matches(store: MetadataStore, cases: dict[str, set[str]]) -> None:
    """Every filter finds exactly its runs (the diff names the filters that did not)."""
    assert {text: set(search(store, text)) for text in cases} == cases


# -- every operator and entity --------------------------------------------------------------


def test_metric_comparisons(small):
    assert_matches(small, {
        "metrics.acc > 0.6": {"r1", "r4"},
        "metrics.acc >= 0.9": {"r1"},
        "metrics.acc < 0.6": {"r2"},
        "metrics.acc <= 0.7": {"r2", "r4"},
        "metrics.acc = 0.7": {"r4"},
        "metrics.acc > 5e-1": {"r1", "r4"},
        "metrics.acc > -1": {"r1", "r2", "r4"},
        "metrics.missing > -1": set(),
    })


def test_nan_metrics_never_match(small):
    assert_matches(small, {
        "metrics.loss != 0.1": set(),  # r2's loss is NaN
        "metrics.loss > -1e300": {"r1"},
        "metrics.loss < 1e300": {"r1"},
        "metrics.acc != 0.5": {"r1", "r4"},  # not r3 (NaN), not r6 (no acc)
    })


def test_params_and_tags_equality_and_presence(small):
    assert_matches(small, {
        "params.opt = 'adam'": {"r1", "r4"},
        "params.opt = 'Adam'": {"r3"},
        "params.opt != 'adam'": {"r2", "r3"},  # a run lacking the param does not match
        "params.opt IS NULL": {"r6"},
        "params.opt IS NOT NULL": {"r1", "r2", "r3", "r4"},
        "params.lr IS NULL": {"r3", "r6"},
        "params.model.depth = '3'": {"r4"},
        'params."model.depth" = \'3\'': {"r4"},
        "tags.team = 'vision'": {"r2"},
        "tags.`my-tag` = 'x'": {"r4"},
        "tags.team IS NULL": {"r3", "r6"},
        "tags.note IS NOT NULL": {"r1"},
    })


def test_like_is_case_sensitive_on_every_backend(small):
    assert_matches(small, {
        "params.opt LIKE 'a%'": {"r1", "r4"},
        "params.opt LIKE 'A%'": {"r3"},
        "params.opt LIKE 'adam'": {"r1", "r4"},
        "params.opt LIKE '_dam'": {"r1", "r3", "r4"},
        "params.opt LIKE '%DAM'": set(),
        "tags.team LIKE 'vision'": {"r2"},
        "tags.team LIKE 'V%'": {"r1"},
        "attributes.run_name LIKE 'alpha%'": {"r2"},
        "`Run name` LIKE 'A%'": {"r1"},
    })


def test_like_wildcards_escapes_and_glob_characters(small):
    assert_matches(small, {
        "tags.team LIKE '50\\%\\_off'": {"r4"},  # escaped wildcards are literal
        "tags.team LIKE '50\\%'": set(),
        "tags.team LIKE '50%'": {"r4"},
        "tags.team LIKE '5_\\%%'": {"r4"},
        "tags.note LIKE 'a*b[c]?'": {"r1"},  # GLOB's own specials are literal in LIKE
        "tags.note LIKE 'a*'": set(),
        "tags.note LIKE 'a_b%'": {"r1"},
        "tags.note LIKE '%[c]_'": {"r1"},
        "tags.note LIKE 'a[*]b%'": set(),
    })


def test_ilike_is_case_insensitive(small):
    assert_matches(small, {
        "params.opt ILIKE 'ADAM'": {"r1", "r3", "r4"},
        "params.opt ILIKE 'a%'": {"r1", "r3", "r4"},
        "tags.team ILIKE 'VISION'": {"r1", "r2"},
        "tags.team ILIKE '50\\%%'": {"r4"},
        "run_name ILIKE 'ALPHA%'": {"r1", "r2"},
    })


def test_string_attributes(small):
    assert_matches(small, {
        "run_name = 'Alpha'": {"r1"},
        "`Run name` = 'beta'": {"r3"},
        "attributes.run_id = 'r2'": {"r2"},
        "id != 'r2'": {"r1", "r3", "r4", "r6"},
        "run_id IN ('r1', 'r3', 'nope')": {"r1", "r3"},
        "run_id NOT IN ('r1', 'r3')": {"r2", "r4", "r6"},
        "status IN ('FINISHED', 'FAILED')": {"r1", "r2", "r4"},
        "status NOT IN ('FINISHED')": {"r2", "r3", "r6"},
        "user_id != 'ann'": {"r2", "r4", "r6"},
        "experiment_id = '2'": {"r4"},
        "artifact_uri LIKE 'file:///artifacts/r1'": {"r1"},
        "source_name = 'train.py'": ALL_ACTIVE,
        "parent_run_id = 'r1'": {"r3"},
        "parent_run_id IS NULL": {"r1", "r2", "r4", "r6"},
        "git_commit IS NOT NULL": {"r6"},
    })


def test_numeric_attributes(small):
    assert_matches(small, {
        "start_time >= 250": {"r3", "r4"},
        "created < 200": {"r1"},
        "attributes.start_time = 200": {"r2", "r6"},
        "start_time > 150.5": {"r2", "r3", "r4", "r6"},
        "end_time > 150": {"r1", "r4", "r6"},
        "end_time != 200": {"r4", "r6"},
        "end_time IS NULL": {"r2", "r3"},
        "end_time IS NOT NULL": {"r1", "r4", "r6"},
    })


def test_comparisons_combine_with_and(small):
    assert_matches(small, {
        "metrics.acc > 0.6 AND params.opt = 'adam' AND tags.team ILIKE 'vision'": {"r1"},
        "metrics.acc > 0.5 and metrics.acc < 0.8": {"r4"},
        "params.opt IS NULL AND params.opt = 'adam'": set(),
        "params.opt = 'adam' AND status = 'FINISHED' AND experiment_id = '1'": {"r1"},
        "tags.team IS NULL AND params.opt IS NOT NULL": {"r3"},
    })


def test_user_text_is_bound_never_pasted(small):
    assert_matches(small, {
        "params.opt = 'x''; DROP TABLE runs; --'": set(),
        'params."opt"" = 1 OR 1=1 --" = \'adam\'': set(),
        "run_id IN ('r1'')--', 'r2')": {"r2"},
        "tags.note LIKE '%'' OR ''1''=''1'": set(),
    })
    assert len(search(small)) == 5


def test_long_values_are_found_like_short_ones(small):
    """PostgreSQL indexes values of up to 2,000 bytes by (key, value) and longer ones
    apart; a search finds both, and a long param or tag can be stored at all."""
    long_text = "é" * 1500 + "-end"  # 3,004 bytes
    with small.write() as conn:
        conn.execute(t.params.insert(), [dict(run_id="r6", key="opt", value=long_text)])
        conn.execute(t.tags.insert(), [dict(run_id="r3", key="team", value="V" + long_text)])
    assert_matches(small, {
        f"params.opt = '{long_text}'": {"r6"},
        "params.opt LIKE 'éé%'": {"r6"},
        "params.opt LIKE '%-end'": {"r6"},
        "params.opt LIKE 'a%'": {"r1", "r4"},
        "tags.team LIKE 'V%'": {"r1", "r3"},
        "tags.team LIKE 'Vé%'": {"r3"},
        "tags.team = 'Vision'": {"r1"},
    })


def test_cached_statements_keep_each_pattern(small):
    """One compiled LIKE statement is reused by SQLAlchemy's cache with new patterns."""
    for _ in range(2):
        assert set(search(small, "params.opt LIKE 'a%'")) == {"r1", "r4"}
        assert set(search(small, "params.opt LIKE 'A%'")) == {"r3"}
        assert set(search(small, "params.opt LIKE 's%'")) == {"r2"}


# -- which runs: experiments and lifecycle ---------------------------------------------------


def test_lifecycle(small):
    assert set(search(small)) == ALL_ACTIVE
    assert search(small, lifecycle="deleted") == ["r5"]
    assert set(search(small, lifecycle="all")) == ALL_ACTIVE | {"r5"}
    assert search(small, "metrics.acc > 0.95", lifecycle="all") == ["r5"]
    assert search(small, "metrics.acc > 0.95") == []


def test_unknown_lifecycle_is_refused():
    with pytest.raises(InvalidArgument, match="unknown lifecycle 'gone'"):
        search_statement(["1"], [], [], "gone", 10, 0)


def test_experiments(small):
    assert search(small, experiments=["2"]) == ["r4"]
    assert search(small, experiments=[]) == []
    assert search(small, experiments=["404"]) == []


# -- order ---------------------------------------------------------------------------------


def test_default_order_is_newest_first_then_run_id(small):
    assert search(small) == ["r4", "r3", "r6", "r2", "r1"]  # r6, r2 both start at 200


def test_metric_order_puts_nan_then_missing_last_both_ways(small):
    assert search(small, order=["metrics.acc DESC"]) == ["r1", "r4", "r2", "r3", "r6"]
    assert search(small, order=["metrics.acc"]) == ["r2", "r4", "r1", "r3", "r6"]
    assert search(small, order=["metrics.loss ASC"]) == ["r1", "r2", "r4", "r3", "r6"]


def test_order_by_a_filtered_metric(small):
    assert search(small, "metrics.acc > 0", ["metrics.acc DESC"]) == ["r1", "r4", "r2"]
    assert search(small, "metrics.acc > 0", ["metrics.acc ASC"]) == ["r2", "r4", "r1"]


def test_param_and_tag_order_put_missing_last_both_ways(small):
    assert search(small, order=["params.lr"]) == ["r2", "r1", "r4", "r3", "r6"]
    assert search(small, order=["params.lr DESC"]) == ["r4", "r1", "r2", "r3", "r6"]
    assert search(small, order=["tags.note DESC"]) == ["r1", "r4", "r3", "r6", "r2"]
    assert search(small, order=["tags.note ASC"]) == ["r1", "r4", "r3", "r6", "r2"]
    assert search(small, "params.lr IS NOT NULL", ["params.lr DESC"]) == ["r4", "r1", "r2"]


def test_attribute_order(small):
    assert search(small, order=["end_time"]) == ["r1", "r6", "r4", "r3", "r2"]
    assert search(small, order=["end_time DESC"]) == ["r4", "r6", "r1", "r3", "r2"]
    assert search(small, order=["start_time ASC"]) == ["r1", "r6", "r2", "r3", "r4"]
    assert search(small, order=["created DESC"]) == ["r4", "r3", "r6", "r2", "r1"]
    assert search(small, order=["status", "start_time ASC"]) == ["r2", "r1", "r4", "r6", "r3"]
    assert search(small, order=["`Run name` DESC"]) == ["r6", "r4", "r3", "r2", "r1"]


@pytest.mark.parametrize(
    ("text", "order"),
    [
        (None, ["metrics.acc DESC"]), (None, ["metrics.acc"]), (None, ["metrics.loss ASC"]),
        (None, ["params.lr"]), (None, ["params.lr DESC"]), (None, ["tags.note DESC"]),
        ("params.opt = 'adam'", ["metrics.acc DESC", "params.lr"]),
        ("params.opt = 'adam'", None), ("tags.team = 'vision'", None),
        ("params.opt != 'sgd'", ["start_time ASC"]), ("params.lr IS NULL", None),
        ("metrics.acc > 0.6 AND params.opt LIKE 'a%'", ["params.opt"]),
    ],
)
@pytest.mark.parametrize(("limit", "offset"), [(100, 0), (2, 0), (2, 2), (3, 1)])
def test_the_repository_pages_as_the_one_statement_does(small, text, order, limit, offset):
    """Reading the rows with a value first, and a rare filter's rows first, change the
    plan, never the page."""
    with small.read() as conn:
        found = repository.search_run_ids(
            conn, ["1", "2"], parse_filter(text), parse_order_by(order), "active", limit, offset
        )
    assert found == search(small, text, order, limit=limit, offset=offset)


# -- pages ---------------------------------------------------------------------------------


def test_limit_and_offset_page_through_the_order(small):
    pages = [search(small, order=["metrics.acc DESC"], limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert pages == [["r1", "r4"], ["r2", "r3"], ["r6"], []]
    assert search(small, limit=0) == []


@pytest.mark.parametrize(("limit", "offset"), [(-1, 0), (10, -5), (True, 0), (10, "3")])
def test_bad_limit_or_offset(limit, offset):
    with pytest.raises(InvalidArgument, match="must be a whole number >= 0"):
        search_statement(["1"], [], [], "active", limit, offset)


def test_too_many_keys_at_once_are_refused():
    comparisons = parse_filter(" AND ".join(f"metrics.m{i} > 0" for i in range(33)))
    with pytest.raises(InvalidArgument, match="more than 32 distinct"):
        search_statement(["1"], comparisons, [], "active", 10, 0)


def test_the_statement_selects_only_run_ids():
    statement = search_statement(
        ["1"], parse_filter("metrics.a > 1"), parse_order_by(["params.b"]), "all", 5, 0
    )
    assert [c.name for c in statement.selected_columns] == ["run_id"]


@pytest.mark.parametrize(
    ("like", "glob"),
    [
        ("abc", "abc"), ("a%", "a*"), ("_b_", "?b?"), ("a\\%b", "a%b"), ("a\\_", "a_"),
        ("a\\\\b", "a\\b"), ("a*b", "a[*]b"), ("a?", "a[?]"), ("[x]", "[[]x]"),
        ("\\a", "a"), ("\\*", "[*]"), ("%%", "**"),
    ],
)
def test_like_to_glob(like, glob):
    assert like_to_glob(like) == glob


# -- 100,000 runs: the plan uses the (key, value) index ---------------------------------------

N_RUNS = 100_000
CHUNK = 10_000


def generate_chunk(rng: random.Random, first: int) -> tuple[list, list, list]:
    """Runs first..first+CHUNK: every run has m0 (some NaN, values rounded so ties occur),
    odd runs also m1, every run a param; one in 50 runs is deleted."""
    runs, metrics, params = [], [], []
    for i in range(first, first + CHUNK):
        run_id = f"run{i:06d}"
        runs.append(run_row(
            run_id, 1_700_000_000_000 + (i % 5_000) * 1000, experiment_id=str(1 + i % 2),
            lifecycle_stage="deleted" if i % 50 == 0 else "active",
        ))
        metrics.append(metric_row(run_id, "m0", None if i % 97 == 0 else round(rng.random(), 3)))
        if i % 2:
            metrics.append(metric_row(run_id, "m1", rng.random()))
        params.append(dict(run_id=run_id, key="p", value=str(i % 7)))
    return runs, metrics, params


def query_plan(conn: sa.Connection, statement: sa.Select) -> str:
    compiled = statement.compile(dialect=conn.dialect,
                                 compile_kwargs={"render_postcompile": True})
    if conn.dialect.name == "sqlite":
        values = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values).all()
        return "\n".join(row[-1] for row in rows)
    rows = conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
    return "\n".join(row[0] for row in rows)


@pytest.fixture(scope="module")
def big_store(tmp_path_factory, request) -> Iterator[tuple[MetadataStore, list]]:
    """100,000 runs on each backend (module-scoped: filled once), and the expected pool of
    ``metrics.m0 > 0.9``. PostgreSQL is ANALYZEd (autovacuum would be); SQLite is not, as
    Gannet never runs ANALYZE there, so its plans must not need statistics."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('big') / 'big.db'}"
        else:
            url = stack.enter_context(database_or_skip())  # its own, dropped after
        store = stack.enter_context(closing(_filled(url)))
        yield store, store.expected_pool  # type: ignore[attr-defined]


def _filled(url: str) -> MetadataStore:
    store = MetadataStore(url).open()
    store.upgrade()
    rng = random.Random(1234)
    expected_pool = []
    with store.write() as conn:
        # bigger multi-row INSERTs than SQLAlchemy's default 1000 (capped by the driver's
        # parameter limit anyway): a third faster on PostgreSQL
        conn = conn.execution_options(insertmanyvalues_page_size=5000)
        add_experiments(conn)
        for first in range(0, N_RUNS, CHUNK):
            runs, metrics, params = generate_chunk(rng, first)
            conn.execute(t.runs.insert(), runs)
            conn.execute(t.latest_metrics.insert(), metrics)
            conn.execute(t.params.insert(), params)
            expected_pool += [
                (m["value"], r["start_time"], r["run_id"])
                for r, m in zip(runs, (m for m in metrics if m["key"] == "m0"), strict=True)
                if r["lifecycle_stage"] == "active" and m["value"] is not None
                and m["value"] > 0.9
            ]
    if not store.is_sqlite:
        with store.write() as conn:
            conn.exec_driver_sql("ANALYZE")
    store.expected_pool = expected_pool  # type: ignore[attr-defined]
    return store


def plan_of(store: MetadataStore, text: str | None, order: Sequence[str] | None = None, *,
            experiments: Sequence[str] = ("1",), lifecycle: str = "active") -> str:
    """The plan of the statement ``search_runs`` issues (shaped by the repository)."""
    with store.read() as conn:
        repository.plan_searches(conn)
        statement = repository.search_statement(
            conn, list(experiments), parse_filter(text), parse_order_by(order), lifecycle,
            101, 0,
        )
        return query_plan(conn, statement)


TABLE_SCAN = re.compile(
    r"^SCAN (runs|params|tags|latest_metrics|metrics|(metric|param|tag)_\d+)\b", re.M
)


def assert_no_full_scan(store: MetadataStore, plan: str, *, sorts_few: bool = False) -> None:
    """No table is read whole; and, unless the plan sorts a few rows it found first (the
    runs a rare filter matches, the merged heads of several index walks), nothing is
    sorted either."""
    if store.is_sqlite:
        assert not TABLE_SCAN.search(plan), plan
        if not sorts_few:
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
    else:
        assert "Seq Scan" not in plan, plan


@pytest.mark.slow
@pytest.mark.parametrize("big_store", ["sqlite", "postgresql"], indirect=True)
def test_100k_runs_filtered_and_sorted_by_a_metric_use_its_index(big_store):
    store, expected_pool = big_store
    statement = search_statement(["1", "2"], parse_filter("metrics.m0 > 0.9"),
                                 parse_order_by(["metrics.m0 DESC"]), "active", 100, 0)
    with store.read() as conn:
        found = list(conn.execute(statement).scalars())
        plan = query_plan(conn, statement)

    # metric DESC, then start_time DESC, then run_id DESC: the whole tuple descending
    expected = [run_id for *_, run_id in sorted(expected_pool, reverse=True)[:100]]
    assert found == expected
    assert "ix_latest_metrics_key_value" in plan, plan
    assert_no_full_scan(store, plan)


RUNS_BY_TIME = "ix_runs_experiment_id_lifecycle_stage_start_time_run_id"


@pytest.mark.slow
@pytest.mark.parametrize("big_store", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize(
    ("text", "order", "experiments", "lifecycle"),
    [
        (None, None, ("1",), "active"),  # the default page: newest first
        (None, None, ("1", "2"), "active"),  # several experiments: merged index walks
        (None, None, ("1",), "all"),  # active and deleted: merged too
        (None, None, ("1",), "deleted"),
        (None, ["attributes.start_time ASC"], ("1",), "active"),
        ("attributes.status = 'FINISHED'", None, ("1",), "active"),
        ("attributes.start_time > 1700002000000", None, ("1",), "active"),
        ("params.p = '3'", None, ("1",), "active"),  # a common value: probed per run
        ("params.p = '3'", None, ("1", "2"), "active"),
        ("metrics.m0 < 0.5", None, ("1",), "active"),
        ("params.p = '3' AND metrics.m1 > 0.5", None, ("1",), "active"),
    ],
)
def test_100k_runs_newest_first_pages_walk_the_runs_index(
    big_store, text, order, experiments, lifecycle
):
    """On SQLite always; PostgreSQL weighs its statistics and may read two indexes and
    sort the few runs they share instead (for a filter on two keys), never a table."""
    store, _ = big_store
    plan = plan_of(store, text, order, experiments=experiments, lifecycle=lifecycle)
    merged = len(experiments) > 1 or lifecycle == "all"
    if store.is_sqlite or text is None or " AND " not in text:
        assert RUNS_BY_TIME in plan, plan
        assert_no_full_scan(store, plan, sorts_few=merged)
    else:
        assert "Index" in plan, plan
        assert_no_full_scan(store, plan, sorts_few=True)


@pytest.mark.slow
@pytest.mark.parametrize("big_store", ["sqlite", "postgresql"], indirect=True)
def test_100k_runs_a_rare_param_value_is_read_from_its_index(big_store):
    store, _ = big_store
    one = sa.and_(t.params.c.run_id == "run000123", t.params.c.key == "p")
    with store.write() as conn:
        conn.execute(t.params.update().where(one).values(value="rare"))
    try:
        plan = plan_of(store, "params.p = 'rare'")
        assert "ix_params_key_value_run_id" in plan, plan
        assert_no_full_scan(store, plan, sorts_few=True)
        with store.read() as conn:
            found = repository.search_run_ids(
                conn, ["1", "2"], parse_filter("params.p = 'rare'"), [], "active", 10, 0
            )
        assert found == ["run000123"]
    finally:
        with store.write() as conn:
            conn.execute(t.params.update().where(one).values(value=str(123 % 7)))
