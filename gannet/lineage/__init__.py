"""lineage: the graph of what used what, written by every capability, read both ways.

- ``types``: ``Edge`` (from_kind, from_id, to_kind, to_id, context, at) and the node kinds
  (``DATASET_VERSION``, ``RUN``, ``MODEL_VERSION``, ``FEATURE_VIEW``)
- ``tables`` / ``repository``: the one generic ``lineage_edges`` table and its SQL
- ``service``: ``LineageService.record`` (idempotent), ``inputs_of`` and ``users_of``

Model versions are not written here: a model version inherits its run's inputs, so the
data service follows run -> model version through the registry when it answers.
"""

from gannet.lineage.types import DATASET_VERSION, FEATURE_VIEW, MODEL_VERSION, RUN, Edge

__all__ = ["DATASET_VERSION", "FEATURE_VIEW", "MODEL_VERSION", "RUN", "Edge"]
