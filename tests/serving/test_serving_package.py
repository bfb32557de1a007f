"""The serving package's surface: a light import, maps that name what exists, no old paths."""

import importlib
import importlib.util
import subprocess
import sys

import pytest

SUBPACKAGES = ("gannet.serving.deployments", "gannet.serving.server", "gannet.serving.log")
HEAVY = ("pyarrow", "duckdb", "uvicorn", "sklearn", "pandas", "prometheus_client")


def test_importing_serving_and_its_subpackages_loads_no_heavy_library():
    code = (
        "import sys, gannet.serving, "
        + ", ".join(SUBPACKAGES)
        + f"\nheavy = sorted(set({HEAVY!r}) & set(sys.modules))"
        "\nassert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_each_public_name_of_a_subpackage_exists_where_its_map_says(name):
    package = importlib.import_module(name)
    assert package.__doc__ and package.__all__
    for public in package.__all__:
        assert getattr(package, public) is not None, public
        assert public in dir(package)
    with pytest.raises(AttributeError):
        package.nothing_of_that_name  # noqa: B018


def test_the_serving_map_names_every_subpackage_and_module():
    import gannet.serving

    for name in gannet.serving.__all__:
        assert importlib.import_module(f"gannet.serving.{name}")
        assert f"``{name}" in gannet.serving.__doc__


@pytest.mark.parametrize("old", [
    "app", "batching", "bundle", "codecs", "host", "inference_log", "log_schema", "metrics",
    "protocol", "router", "tables", "types",
])
def test_the_flat_modules_are_gone(old):
    assert importlib.util.find_spec(f"gannet.serving.{old}") is None
