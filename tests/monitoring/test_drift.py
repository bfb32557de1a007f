"""``gannet.monitor.drift`` on plain DataFrames: each test agrees with scipy on known data,
a shifted column is flagged and an unshifted one is not (fixed seeds), and the defaults
follow Evidently's (a test up to 1000 reference values, a distance above)."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import spatial, stats

import gannet
from gannet.core.errors import InvalidArgument
from gannet.stats import drift as tests


def _frames(n_ref, n_cur, seed=0):
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({
        "age": rng.normal(40, 10, n_ref),
        "income": rng.lognormal(10, 1, n_ref),
        "plan": rng.choice(["basic", "plus", "pro"], n_ref, p=[0.6, 0.3, 0.1]),
        "region": rng.choice(["n", "s", "e", "w"], n_ref),
    })
    current = pd.DataFrame({
        "age": rng.normal(48, 10, n_cur),  # shifted
        "income": rng.lognormal(10, 1, n_cur),
        "plan": rng.choice(["basic", "plus", "pro"], n_cur, p=[0.2, 0.3, 0.5]),  # shifted
        "region": rng.choice(["n", "s", "e", "w"], n_cur),
    })
    return reference, current


@pytest.mark.parametrize(("n_ref", "expected_tests"), [
    (500, {"age": "ks", "income": "ks", "plan": "chisquare", "region": "chisquare"}),
    (5000, {"age": "wasserstein", "income": "wasserstein", "plan": "jensenshannon",
            "region": "jensenshannon"}),
])
def test_shifted_columns_are_flagged_and_the_others_are_not(n_ref, expected_tests):
    reference, current = _frames(n_ref, n_ref)
    report = gannet.monitor.drift(reference, current)
    assert report.drifted_columns == ["age", "plan"]
    assert {name: c.test for name, c in report.columns.items()} == expected_tests
    assert report.share == 0.5 and report.dataset_drift
    as_dict = report.to_dict()
    assert as_dict["drifted_columns"] == ["age", "plan"]
    assert set(as_dict["columns"]["age"]) >= {"test", "statistic", "p_value", "threshold",
                                              "drifted"}
    html = report._repr_html_()
    assert "<table>" in html and "age" in html and "<script" not in html


def test_pandas_polars_and_arrow_give_the_same_verdicts():
    reference, current = _frames(2000, 1500, seed=3)
    by_pandas = gannet.monitor.drift(reference, current).to_dict()
    by_arrow = gannet.monitor.drift(pa.Table.from_pandas(reference),
                                    pa.Table.from_pandas(current)).to_dict()
    assert by_arrow == by_pandas
    polars = pytest.importorskip("polars")
    assert gannet.monitor.drift(polars.from_pandas(reference),
                                polars.from_pandas(current)).to_dict() == by_pandas


@pytest.mark.parametrize("n", [300, 20_000])  # scipy's exact p-value, then its asymptotic one
def test_ks_agrees_with_scipy(n):
    rng = np.random.default_rng(1)
    a, b = np.sort(rng.normal(0, 1, n)), np.sort(rng.normal(0.05, 1, n + 7))
    d, p = tests.ks(a, b)
    expected = stats.ks_2samp(a, b, method="asymp" if n > 10_000 else "auto")
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-6)


def test_wasserstein_psi_js_and_chisquare_agree_with_scipy():
    rng = np.random.default_rng(2)
    a, b = np.sort(rng.normal(0, 2, 3000)), np.sort(rng.normal(0.3, 2, 2000))
    distance, normed = tests.wasserstein(a, b)
    assert distance == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
    assert normed == pytest.approx(distance / np.std(a))
    same_size = np.sort(rng.normal(0.3, 2, 3000))  # the equal-sizes shortcut
    assert tests.wasserstein(a, same_size)[0] == pytest.approx(
        stats.wasserstein_distance(a, same_size), rel=1e-9)
    ref_counts, cur_counts = tests.numeric_bins(a, b)
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins="sturges")
    assert ref_counts.tolist() == np.histogram(a, edges)[0].tolist()
    assert cur_counts.tolist() == np.histogram(b, edges)[0].tolist()
    p = np.array([50.0, 30.0, 20.0])
    q = np.array([40.0, 30.0, 30.0])
    assert tests.jensenshannon(p, q) == pytest.approx(
        spatial.distance.jensenshannon(p / 100, q / 100))
    assert tests.psi(p, q) == pytest.approx(np.sum((q / 100 - p / 100) * np.log(q / p)))
    statistic, pvalue = tests.chisquare(p, q)
    expected = stats.chisquare(q, p / p.sum() * q.sum())
    assert (statistic, pvalue) == pytest.approx((expected.statistic, expected.pvalue))


def test_benjamini_hochberg_controls_many_columns():
    rng = np.random.default_rng(4)
    reference = pd.DataFrame({f"x{i}": rng.normal(0, 1, 400) for i in range(40)})
    current = pd.DataFrame({f"x{i}": rng.normal(0, 1, 400) for i in range(40)})
    current["x0"] += 1.0
    plain = gannet.monitor.drift(reference, current)
    corrected = gannet.monitor.drift(reference, current, correction="bh")
    assert "x0" in plain.drifted_columns and corrected.drifted_columns == ["x0"]
    assert len(plain.drifted_columns) >= len(corrected.drifted_columns)
    raw = [c.p_value for c in plain.columns.values()]
    assert [c.score for c in corrected.columns.values()] == pytest.approx(
        stats.false_discovery_control(raw, method="bh"))


def test_chosen_tests_and_thresholds_per_kind_or_column():
    reference, current = _frames(3000, 3000, seed=5)
    report = gannet.monitor.drift(reference, current, method={"numeric": "psi", "plan": "psi",
                                                              "region": "chisquare"},
                                  threshold={"psi": 0.2, "age": 0.05})
    tests_used = {name: (c.test, c.threshold) for name, c in report.columns.items()}
    assert tests_used == {"age": ("psi", 0.05), "income": ("psi", 0.1), "plan": ("psi", 0.1),
                          "region": ("chisquare", 0.05)}
    assert "age" in report.drifted_columns and "plan" in report.drifted_columns
    with pytest.raises(InvalidArgument, match="KS test needs a numeric column"):
        gannet.monitor.drift(reference, current, method={"plan": "ks"})
    with pytest.raises(InvalidArgument, match="unknown drift test 'kss'"):
        gannet.monitor.drift(reference, current, method="kss")


def test_few_rows_constant_and_null_columns_are_never_drift():
    rng = np.random.default_rng(6)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 200), "same": 1.0, "empty": np.nan,
                              "flag": rng.integers(0, 2, 200)})
    current = pd.DataFrame({"x": rng.normal(5, 1, 200), "same": 1.0, "empty": np.nan,
                            "flag": rng.integers(0, 2, 200)})
    report = gannet.monitor.drift(reference, current)
    statuses = {name: c.status for name, c in report.columns.items()}
    assert statuses == {"x": "drift", "same": "ok", "empty": "insufficient", "flag": "ok"}
    assert report.columns["flag"].test == "chisquare"  # two values: categorical
    few = gannet.monitor.drift(reference.head(10), current.head(10))
    assert {c.status for c in few.columns.values()} == {"insufficient"}
    assert few.drifted_columns == [] and few.share == 0.0 and not few.dataset_drift


def test_a_column_missing_from_one_side_is_named():
    reference, current = _frames(100, 100)
    with pytest.raises(InvalidArgument, match="missing from the current data: plan"):
        gannet.monitor.drift(reference, current.drop(columns=["plan"]))
    with pytest.raises(InvalidArgument, match="not a table"):
        gannet.monitor.drift([1, 2, 3], current)


def test_a_big_reference_is_sketched_for_a_small_window_without_moving_the_verdict():
    from gannet.stats.columns import prepare

    rng = np.random.default_rng(7)
    big = pa.chunked_array([rng.normal(0, 1, 200_000)])
    reference = prepare("x", big)
    for shift in (0.0, 0.05, 0.3):
        window = rng.normal(shift, 1, 5_000)
        exact = stats.wasserstein_distance(reference.values, window) / np.std(reference.values)
        found = gannet.monitor.drift({"x": big}, {"x": window}).columns["x"]
        assert found.score == pytest.approx(exact, abs=2e-3)
        assert found.drifted == (exact > 0.1)


def _typed_frame(n, shift, seed):
    rng = np.random.default_rng(seed)
    values = rng.normal(shift, 1, n)
    values[::17] = np.nan
    counts = pd.array(rng.integers(0, 50 + int(shift * 20), n), dtype="Int64")
    counts[::13] = pd.NA
    text = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2] if shift else None)
    return pd.DataFrame({
        "float": values, "int": rng.integers(0, 100, n) + int(shift * 40), "count": counts,
        "flag": rng.random(n) < 0.3 + shift * 0.6,
        "plan": pd.Categorical(rng.choice(["basic", "plus", "pro"], n)),
        "text": pd.Series(text, dtype=object).where(rng.random(n) > 0.1, None),
        "when": pd.to_datetime(1_700_000_000 + rng.integers(0, 86_400, n) * (1 + shift),
                               unit="s", utc=True),
        7: rng.normal(0, 1, n),  # a name that is not a string
    })


@pytest.mark.parametrize("rows", [400, 30_000])  # in one thread, then in threads
def test_pandas_columns_read_one_by_one_give_what_the_whole_table_gives(rows):
    reference, current = _typed_frame(rows, 0.0, 9), _typed_frame(rows, 0.5, 10)

    def table(frame):
        return pa.Table.from_pandas(frame.rename(columns=str), preserve_index=False)

    for options in ({}, {"correction": "bh"}, {"columns": ["text", "7", "when"]}):
        by_pandas = gannet.monitor.drift(reference, current, **options).to_dict()
        assert by_pandas == gannet.monitor.drift(table(reference), table(current),
                                                 **options).to_dict()
    assert set(by_pandas["columns"]) == {"text", "7", "when"}
    report = gannet.monitor.drift(reference, current)
    shifted = {"float", "int", "count", "flag", "text", "when"}
    assert shifted <= set(report.drifted_columns) and "plan" not in report.drifted_columns
    assert report.columns["count"].current_rows < rows  # its nulls left out


def test_drift_holds_a_few_columns_at_a_time_not_every_prepared_column():
    import tracemalloc

    rng = np.random.default_rng(11)
    rows, columns = 40_000, 40
    reference = pd.DataFrame({f"x{i}": rng.normal(0, 1, rows) for i in range(columns)})
    current = pd.DataFrame({f"x{i}": rng.normal(0.2, 1, rows) for i in range(columns)})
    every_column = 2 * columns * rows * 8  # every column's sorted values, both sides
    tracemalloc.start()
    try:
        report = gannet.monitor.drift(reference, current)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(report.drifted_columns) == columns
    assert peak < every_column / 5, f"{peak / 2**20:.1f} MiB at the peak"


def test_a_pandas_column_name_twice_is_named():
    reference, current = _frames(100, 100)
    twice = pd.concat([reference, reference[["age"]]], axis=1)
    with pytest.raises(InvalidArgument, match="reference has 2 columns named 'age'"):
        gannet.monitor.drift(twice, current)
