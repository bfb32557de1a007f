"""Registry: registered models, versions, aliases, signing, promotion gates, model cards.

- ``types``: RegisteredModel, ModelVersion, Promotion, GateResult, StoredPackage, ...
  (references, ``churn/3`` and ``churn@champion``, are ``gannet.models.reference``)
- ``tables`` / ``repository``: the SQL
- ``service``: ``RegistryService`` — register, resolve, alias, approve, promote, load
- ``packages``: a version's files in the blob store and the local verified cache
- ``signing``: ed25519 keys, signing and verifying package manifests
- ``gates``: the promotion policy (YAML) and its gates
- ``cards``: model cards in Markdown and HTML
- ``loading``: signing keys and loading a version verified (inherited by the service)
- ``gc``: what garbage collection needs of model packages (inherited by the service)
- ``promotion``: aliases, approvals and promotion through gates (inherited by the service)
- ``access``: who may read or change a model on a team server (``project_repository``:
  its SQL)
- ``transfer``: a package's upload and download for remote clients (inherited by the
  service)
- ``responsible``: ``ResponsibleAIService``: a version's explanation and fairness
  results, computed on held-out data and stored with it (``report_repository``: their SQL;
  ``rai_plots``: their plots; ``rai_gates``: the fairness, explanation and
  feature_importance gates)
- ``browsing``: searching models and versions in MLflow's registry search languages, and a
  version's files one by one (inherited by the service)
"""
