"""Fixtures and the store contract suite, for Gannet's tests and for plugin authors.

Nothing in the gannet package imports this. Use it as a pytest plugin
(``pytest_plugins = ["gannet.testing.fixtures"]``) to get:

- ``postgres_database``: a PostgreSQL database made for this test session and dropped after
  (``GANNET_TEST_POSTGRES_URL``; skipped when unreachable unless ``CI`` is set);
- ``metadata_url``: parametrised over SQLite and PostgreSQL, empty for every test;
- ``fresh_metadata_url``: the same, but without any schema (for migration tests);
- ``settings``: a ``Settings`` whose home is a fresh temporary folder.

``blob_contract.BlobStoreContract`` is the suite every blob store backend passes (subclass
it and provide a ``store`` fixture); ``s3`` starts moto's S3 server on 127.0.0.1 for it
(fixture ``s3_endpoint``, with ``pytest_plugins = ["gannet.testing.s3"]``).
``postgres`` makes and empties the throw-away PostgreSQL databases; ``mlflow_folders``
writes MLflow model folders by hand the way MLflow does, or with the real mlflow (a test
dependency), for import tests, and ``mlflow_store`` a real MLflow tracking store filled by
the mlflow client (``fill_mlflow_store``), for ``gannet import mlflow``; ``intruder`` has a
``python``-flavor model whose loading leaves a mark, for tests that a package's code does
not run unless it is trusted; ``processes`` starts real processes released at the same
moment (``run_together``), for tests of races. ``server`` runs the team server in this
process on a real socket (``running_server``) or as ``gannet server`` (``ServerProcess``);
``oidc`` is a small OpenID Connect provider on 127.0.0.1 (``running_provider``) for tests
of single sign-on, and ``browser`` follows a sign-in's redirects as a browser would.
"""
