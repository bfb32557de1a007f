import subprocess
import sys

from gannet.core.ids import is_id, new_id


def test_ids_are_unique_sortable_and_mlflow_shaped():
    ids = [new_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(is_id(i) and len(i) == 32 for i in ids)


def test_import_gannet_is_light():
    code = (
        "import sys, gannet\n"
        "heavy = [m for m in ('sqlalchemy', 'pandas', 'sklearn', 'fsspec', 'rich', 'typer')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(gannet.start_run)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
