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


def test_a_script_that_only_logs_metrics_imports_only_tracking_and_the_stores(tmp_path):
    """Composition is lazy: no registry, serving, models or ML library for log_metric."""
    code = (
        "import sys, gannet\n"
        f"gannet.configure(home={str(tmp_path / 'home')!r})\n"
        "with gannet.start_run():\n"
        "    gannet.log_metric('loss', 0.5)\n"
        "    gannet.log_param('lr', 0.1)\n"
        "gannet.flush()\n"
        "loaded = {m.split('.')[1] for m in sys.modules if m.startswith('gannet.')}\n"
        "assert loaded <= {'core', 'store', 'tracking', 'client', 'bootstrap'}, loaded\n"
        "heavy = [m for m in ('sklearn', 'pandas', 'numpy', 'pyarrow', 'duckdb', 'uvicorn',"
        " 'cryptography', 'jinja2', 'yaml') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
