"""The shared ``MetaData``: capabilities declare their tables on it (``<capability>/tables.py``).

The schema itself only changes through the Alembic migrations beside this file; a test
checks that the migrated database and the declared tables agree.
"""

from sqlalchemy import BigInteger, Integer, MetaData

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

METADATA = MetaData(naming_convention=NAMING_CONVENTION)

# An auto-incrementing 64-bit key that is SQLite's rowid (INTEGER PRIMARY KEY) there.
AutoId = BigInteger().with_variant(Integer(), "sqlite")
