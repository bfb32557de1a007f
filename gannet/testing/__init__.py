"""Fixtures and the store contract suite, for Gannet's tests and for plugin authors.

Nothing in the gannet package imports this. Use it as a pytest plugin
(``pytest_plugins = ["gannet.testing.fixtures"]``) to get:

- ``postgres_database``: a PostgreSQL database made for this test session and dropped after
  (``GANNET_TEST_POSTGRES_URL``; skipped when unreachable unless ``CI`` is set);
- ``metadata_url``: parametrised over SQLite and PostgreSQL, empty for every test;
- ``fresh_metadata_url``: the same, but without any schema (for migration tests);
- ``settings``: a ``Settings`` whose home is a fresh temporary folder.
"""
