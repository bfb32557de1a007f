"""A deployment's failed requests, as its inference servers count them.

The inference log holds answered requests only; a request answered with a 4xx or 5xx is
counted by the server that answered it (``gannet_requests_total{route, model, version,
code}`` on its ``/metrics``). The ``ui_inference_servers`` setting says which servers
serve which deployment (``churn-api=http://10.0.0.5:8080,http://10.0.0.6:8080;
fraud=http://10.0.0.7:8080``); ``error_counts`` reads each one's ``/metrics`` and sums
the counters of the deployment's model per version. The counts run from each server's
start (Prometheus counters), not over a window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gannet.core.errors import SettingsError

__all__ = ["ErrorCounts", "VersionErrors", "error_counts", "servers_of"]

SETTING = "ui_inference_servers"
TIMEOUT_S = 2.0  # per server: a page waits for the slowest one


@dataclass
class VersionErrors:
    """One version's prediction requests, and those answered with a 4xx or 5xx."""

    version: str
    requests: int = 0
    errors: int = 0
    codes: dict[str, int] = field(default_factory=dict)  # status code -> requests (>= 400)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


@dataclass
class ErrorCounts:
    """What the servers of a deployment answered: per version, summed over the servers."""

    servers: tuple[str, ...]
    answered: tuple[str, ...]  # the servers whose /metrics could be read
    versions: list[VersionErrors]


def servers_of(setting: str) -> dict[str, tuple[str, ...]]:
    """deployment -> its servers' base URLs, from the setting's text."""
    found: dict[str, tuple[str, ...]] = {}
    for part in setting.split(";"):
        if not part.strip():
            continue
        name, sep, urls = part.partition("=")
        listed = tuple(u.strip().rstrip("/") for u in urls.split(",") if u.strip())
        if not sep or not name.strip() or not listed or not all(
                u.startswith(("http://", "https://")) for u in listed):
            raise SettingsError(
                f"{SETTING}: {part.strip()!r} is not 'deployment=http://host:port,...'",
                f"write e.g. {SETTING}='churn-api=http://10.0.0.5:8080,"
                "http://10.0.0.6:8080; fraud=http://10.0.0.7:8080'")
        found[name.strip()] = listed
    return found


def error_counts(urls: tuple[str, ...], model: str) -> ErrorCounts:
    """Read each server's ``/metrics``; sum ``model``'s prediction requests per version."""
    import httpx

    versions: dict[str, VersionErrors] = {}
    answered = []
    for url in urls:
        try:
            answer = httpx.get(f"{url}/metrics", timeout=TIMEOUT_S)
            answer.raise_for_status()
            samples = _request_samples(answer.text)
        except (httpx.HTTPError, ValueError):  # down, or not an inference server's metrics
            continue
        answered.append(url)
        for labels, value in samples:
            if labels.get("model") != model:
                continue
            found = versions.setdefault(labels.get("version", ""),
                                        VersionErrors(labels.get("version", "")))
            found.requests += int(value)
            code = labels.get("code", "")
            if code[:1] in ("4", "5"):
                found.errors += int(value)
                found.codes[code] = found.codes.get(code, 0) + int(value)
    return ErrorCounts(urls, tuple(answered),
                       sorted(versions.values(), key=lambda v: (len(v.version), v.version)))


def _request_samples(text: str) -> list[tuple[dict[str, str], float]]:
    from prometheus_client.parser import text_string_to_metric_families

    return [(sample.labels, sample.value)
            for family in text_string_to_metric_families(text)
            if family.name == "gannet_requests"
            for sample in family.samples if sample.name.endswith("_total")]
