"""What a canary stage is judged on: live traffic, read where serving already keeps it.

- Requests and failures per model version: the inference servers' Prometheus counters
  (``gannet_requests_total{model, version, code}`` at ``<server>/metrics``), summed over
  the servers the policy lists; a stage counts what was added since it began (a counter
  that went down - a restarted server - counts from zero).
- Latency p99, prediction drift against the champion and live performance where labels
  arrived: the deployment's inference log (``InferenceLog.query``), rows since the stage
  began. Without servers listed, requests are counted in the log too.

Prediction drift is the Jensen-Shannon distance (0: same, 1: disjoint) between the
challenger's and the champion's predictions over the same time: per class for few
distinct values, else over shared numeric bins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gannet.core.errors import GannetError

if TYPE_CHECKING:
    from gannet.serving.log.reader import InferenceLog
    from gannet.training.types import Guards

__all__ = ["LiveTraffic", "judge", "scrape_counts"]

MAX_ROWS = 100_000  # rows of predictions compared for drift


def scrape_counts(urls: tuple[str, ...], model: str, timeout: float = 5.0
                  ) -> dict[str, dict[str, float]] | None:
    """version -> {"requests", "errors"} (5xx) of ``model``, summed over the servers;
    None when no server answered."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    totals: dict[str, dict[str, float]] = {}
    answered = False
    for url in urls:
        try:
            text = httpx.get(f"{url}/metrics", timeout=timeout).text
        except httpx.HTTPError:
            continue
        answered = True
        for family in text_string_to_metric_families(text):
            if family.name != "gannet_requests":
                continue
            for sample in family.samples:
                if not sample.name.endswith("_total") or sample.labels.get("model") != model:
                    continue
                found = totals.setdefault(sample.labels.get("version", ""),
                                          {"requests": 0.0, "errors": 0.0})
                found["requests"] += sample.value
                if sample.labels.get("code", "").startswith("5"):
                    found["errors"] += sample.value
    return totals if answered else None


class LiveTraffic:
    """The challenger's traffic since a stage began, from the inference log."""

    def __init__(self, log: InferenceLog, deployment: str, since_ms: int) -> None:
        self.log, self.deployment, self.since = log, deployment, int(since_ms)

    def _query(self, sql: str) -> Any:
        try:
            return self.log.query(self.deployment, sql)
        except GannetError:  # nothing logged yet, or a column the log lacks
            return None

    def _where(self, version: int) -> str:
        return (f"CAST(version AS VARCHAR) = '{int(version)}' AND "
                f"timestamp >= make_timestamp({self.since}::BIGINT * 1000)")

    def requests_and_p99(self, version: int) -> tuple[int, float | None]:
        found = self._query("SELECT count(DISTINCT request_id) AS n, "
                            "quantile_cont(latency_ms, 0.99) AS p99 FROM predictions "
                            f"WHERE {self._where(version)} AND NOT coalesce(shadow, false)")
        if found is None or found.empty:
            return 0, None
        p99 = found["p99"].iloc[0]
        return int(found["n"].iloc[0]), None if p99 != p99 or p99 is None else float(p99)

    def predictions(self, version: int) -> Any:
        found = self._query(f"SELECT prediction FROM predictions WHERE {self._where(version)} "
                            f"LIMIT {MAX_ROWS}")
        return None if found is None else found["prediction"].to_numpy()

    def labelled(self, version: int) -> Any:
        return self._query(f"SELECT prediction, label FROM joined WHERE {self._where(version)} "
                           f"AND label IS NOT NULL LIMIT {MAX_ROWS}")


def prediction_drift(champion: Any, challenger: Any) -> float:
    import numpy as np

    from gannet.stats.drift import jensenshannon, numeric_bins

    a, b = np.asarray(champion), np.asarray(challenger)
    values = np.unique(np.concatenate([a, b]))
    if len(values) <= 20 or a.dtype.kind not in "fiu":
        counts_a = np.array([np.sum(a == v) for v in values], dtype=float)
        counts_b = np.array([np.sum(b == v) for v in values], dtype=float)
    else:
        counts_a, counts_b = numeric_bins(a.astype(float), b.astype(float))
    return jensenshannon(counts_a, counts_b)


def judge(guards: Guards, traffic: LiveTraffic, challenger: int, champion: int | None,
          counted: dict[str, float] | None) -> tuple[list[str], dict[str, Any]]:
    """(the guards that failed, each as a reason; the numbers seen). ``counted``: the
    challenger's requests and errors from the servers' counters, when listed."""
    failed: list[str] = []
    numbers: dict[str, Any] = {}
    if guards.error_rate is not None and counted is not None:
        rate = counted["errors"] / counted["requests"] if counted["requests"] else 0.0
        numbers["error_rate"] = rate
        if rate > guards.error_rate:
            failed.append(f"error rate {rate:.3g} > {guards.error_rate:g} "
                          f"({counted['errors']:g} of {counted['requests']:g} requests)")
    if guards.latency_p99_ms is not None:
        _, p99 = traffic.requests_and_p99(challenger)
        numbers["latency_p99_ms"] = p99
        if p99 is not None and p99 > guards.latency_p99_ms:
            failed.append(f"latency p99 {p99:.1f} ms > {guards.latency_p99_ms:g} ms")
    if guards.prediction_drift is not None and champion is not None:
        theirs, mine = traffic.predictions(champion), traffic.predictions(challenger)
        if theirs is not None and mine is not None and len(theirs) and len(mine):
            drift = prediction_drift(theirs, mine)
            numbers["prediction_drift"] = drift
            if drift > guards.prediction_drift:
                failed.append(f"prediction drift {drift:.3g} vs the champion > "
                              f"{guards.prediction_drift:g}")
    if guards.performance_metric is not None:
        failed += _performance(guards, traffic.labelled(challenger), numbers)
    return failed, numbers


def _performance(guards: Guards, labelled: Any, numbers: dict[str, Any]) -> list[str]:
    from gannet.stats import performance

    count = 0 if labelled is None else len(labelled)
    numbers["labels"] = count
    if count < guards.min_labels or labelled is None:
        return []  # not judged yet: too few labels
    metric = str(guards.performance_metric)
    y, p = labelled["label"].to_numpy(), labelled["prediction"].to_numpy()
    found = performance.regression(y, p) if metric in ("rmse", "mae") else \
        performance.classification(y, p)
    value = found.get(metric)
    numbers[f"live_{metric}"] = value
    if value is not None and guards.performance_min is not None and \
            value < guards.performance_min:
        return [f"live {metric} {value:.3g} < {guards.performance_min:g} ({count} labels)"]
    return []
