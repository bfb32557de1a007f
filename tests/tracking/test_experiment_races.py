"""Processes creating the same experiment at the same moment all succeed and agree on it:
real processes, released together, on SQLite and PostgreSQL (a fresh SQLite store is also
created, and migrated, by all of them at once)."""

import json
import os

from gannet.testing.processes import run_together

PROCESSES = 8
ROUNDS = 5


def test_set_experiment_of_a_new_name_from_many_processes_at_once(sdk, settings, tmp_path):
    script = f"""
import json
import gannet
from gannet.testing.processes import together

ids = []
for round in range({ROUNDS}):
    together()
    ids.append(gannet.set_experiment(f"race-{{round}}").experiment_id)
print(json.dumps(ids))
"""
    env = {
        **os.environ,
        "GANNET_HOME": str(settings.home),
        "GANNET_METADATA_URL": settings.metadata_url,
    }
    outputs = run_together(script, PROCESSES, tmp_path / "race", env=env, rounds=ROUNDS)
    ids = [json.loads(out) for out in outputs]
    assert all(len(set(column)) == 1 for column in zip(*ids, strict=True)), ids
    names = {e.name: e.experiment_id for e in sdk.get_client().search_experiments()}
    assert {names[f"race-{r}"] for r in range(ROUNDS)} == set(ids[0])
