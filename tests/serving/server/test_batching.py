"""Micro-batching: concurrent requests become one predict; one request waits for nothing."""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd
import pytest
from server_fixtures import LiveServer, SlowOrFailing, register_breast_cancer, register_slow_model

from gannet.serving.server.batching import MicroBatcher


class Recorder:
    """A batch function that records each batch and answers each payload with itself x 10."""

    def __init__(self, wait: float = 0.0, fail_on=None) -> None:
        self.batches: list[list] = []
        self.wait = wait
        self.fail_on = fail_on
        self.threads: set[str] = set()

    def __call__(self, payloads, proba):
        self.threads.add(threading.current_thread().name)
        self.batches.append(list(payloads))
        time.sleep(self.wait)
        return [ValueError("bad") if p == self.fail_on else p * 10 for p in payloads]


def _batcher(recorder, **options):
    executor = ThreadPoolExecutor(1, thread_name_prefix="predict")
    observed = []
    batcher = MicroBatcher(recorder, executor=executor,
                           observe=lambda rows, waits: observed.append((rows, list(waits))),
                           **options)
    return batcher, observed


def test_one_request_at_low_load_runs_at_once_in_a_worker_thread():
    async def main():
        recorder = Recorder()
        batcher, observed = _batcher(recorder, max_wait=3600)
        # an idle model takes a lone request at once: were max_wait (an hour) waited,
        # wait_for would give up first
        answer = await asyncio.wait_for(batcher.submit(4, rows=1), timeout=60)
        await batcher.close()
        return recorder, observed, answer

    recorder, observed, answer = asyncio.run(main())
    assert answer == 40
    assert recorder.batches == [[4]]
    assert [(rows, len(waits)) for rows, waits in observed] == [(1, 1)]  # one batch, alone
    assert all(name.startswith("predict") for name in recorder.threads)


def test_requests_arriving_while_the_model_works_share_the_next_batch():
    async def main():
        recorder = Recorder(wait=0.05)
        batcher, observed = _batcher(recorder, max_rows=1000)
        answers = await asyncio.gather(*(batcher.submit(i, rows=1) for i in range(20)))
        await batcher.close()
        return recorder, observed, answers

    recorder, observed, answers = asyncio.run(main())
    assert answers == [i * 10 for i in range(20)]
    assert len(recorder.batches) <= 3
    assert max(len(b) for b in recorder.batches) >= 10
    assert sum(rows for rows, _ in observed) == 20


def test_max_rows_counts_rows_not_requests():
    async def main():
        recorder = Recorder(wait=0.02)
        batcher, observed = _batcher(recorder, max_rows=10)
        await asyncio.gather(*(batcher.submit(i, rows=4) for i in range(9)))
        await batcher.close()
        return observed

    observed = asyncio.run(main())
    assert all(rows <= 10 for rows, _ in observed)  # 4 + 4 fits, a third would not
    assert sum(rows for rows, _ in observed) == 36


def test_one_failing_request_fails_alone():
    async def main():
        recorder = Recorder(wait=0.01, fail_on=3)
        batcher, _ = _batcher(recorder)
        results = await asyncio.gather(*(batcher.submit(i, rows=1) for i in range(6)),
                                       return_exceptions=True)
        await batcher.close()
        return results

    results = asyncio.run(main())
    assert isinstance(results[3], ValueError)
    assert [r for i, r in enumerate(results) if i != 3] == [0, 10, 20, 40, 50]


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    found = register_breast_cancer(tmp_path_factory.mktemp("batching"))
    register_slow_model(found.settings, "slow", wait=0.05)
    yield found
    found.services.close()


def _batch_counts(metrics_text: str) -> dict[str, float]:
    counts = {}
    for line in metrics_text.splitlines():
        if line.startswith("gannet_batch_rows_bucket{"):
            counts[line.split('le="')[1].split('"')[0]] = float(line.split()[-1])
    return counts


def test_concurrent_http_requests_are_batched_and_answered_right(registered):
    """32 requests at once to a model that takes 50 ms per predict: the first runs alone,
    the others queue meanwhile and share the next predict calls."""
    values = [float(i) for i in range(1, 33)]

    async def send_all(url):
        async with httpx.AsyncClient(base_url=url, timeout=30,
                                     limits=httpx.Limits(max_connections=32)) as client:
            answers = await asyncio.gather(*(
                client.post("/predict", json=[{"x": v}]) for v in values))
            return answers, (await client.get("/metrics")).text

    with LiveServer(registered.services, "slow/1") as server:
        answers, metrics = asyncio.run(send_all(server.url))
    raw = SlowOrFailing()
    expected = raw.predict(pd.DataFrame({"x": values})).tolist()
    assert [a.status_code for a in answers] == [200] * 32
    assert [a.json()["predictions"][0] for a in answers] == expected
    counts = _batch_counts(metrics)
    batches = counts["+Inf"]  # the warm-up ran before the batcher existed: not counted
    assert batches < 32, "every request ran alone: nothing was batched"
    assert batches - counts["1.0"] >= 1  # at least one predict call took several requests
    assert 'gannet_batch_rows_sum{model="slow",version="1"} 32.0' in metrics
