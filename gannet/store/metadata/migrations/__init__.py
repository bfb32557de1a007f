"""Alembic migrations of the metadata store (``env.py``, ``versions/``).

``REVISIONS`` lists every revision this code knows, oldest first; ``HEAD`` is the last.
A database at a revision not in the list was written by a newer Gannet and is refused.
A test checks these agree with the files in ``versions/``. Nothing here imports SQLAlchemy.
"""

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010",
             "0011", "0012", "0013", "0014", "0015", "0016", "0017", "0018")
HEAD = REVISIONS[-1]
VERSION_TABLE = "gannet_alembic_version"  # where a database says its revision
