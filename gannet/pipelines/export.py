"""Export a pipeline as an Argo Workflows (and Kubeflow Pipelines on Argo) workflow.

Each step becomes a task of one DAG, depending on the steps whose outputs it takes; every
task runs ``gannet pipeline step FILE[:NAME] STEP --run {{workflow.uid}} --param ...`` in
the image given, so the pods share the pipeline run, and its outputs, through the stores
the image is configured with (``GANNET_METADATA_URL``, ``GANNET_ARTIFACTS_URL`` or a
``gannet.toml``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gannet.pipelines.graph import Graph

FORMATS = ("argo",)


def task_name(step: str) -> str:
    """A step's name as Argo accepts it (lowercase letters, digits and dashes)."""
    return re.sub(r"[^a-z0-9-]+", "-", step.lower()).strip("-") or "step"


def to_argo(graph: Graph, target: str, image: str) -> dict[str, Any]:
    """The workflow of ``graph`` (built from ``target``) as a YAML-ready document."""
    names = {n.name: task_name(n.name) for n in graph.nodes}
    if len(set(names.values())) < len(names):  # `a_b` and `a-b`: make them distinct
        names = {n.name: f"{task_name(n.name)}-{i}" for i, n in enumerate(graph.nodes)}
    params = [{"name": k, "value": _text(v)} for k, v in graph.params.items()]
    args = ["pipeline", "step", target, "{{inputs.parameters.step}}", "--run",
            "{{workflow.uid}}"]
    for p in params:
        args += ["--param", f"{p['name']}={{{{workflow.parameters.{p['name']}}}}}"]
    tasks = [
        {"name": names[n.name], "template": "step",
         "dependencies": sorted({names[o.node] for o in n.upstream}),
         "arguments": {"parameters": [{"name": "step", "value": n.name}]}}
        for n in graph.nodes
    ]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": f"{task_name(graph.name)}-"},
        "spec": {
            "entrypoint": "pipeline",
            "arguments": {"parameters": params},
            "templates": [
                {"name": "pipeline", "dag": {"tasks": tasks}},
                {"name": "step", "inputs": {"parameters": [{"name": "step"}]},
                 "container": {"image": image, "command": ["gannet"], "args": args}},
            ],
        },
    }


def _text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)
