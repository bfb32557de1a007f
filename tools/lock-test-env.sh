#!/usr/bin/env bash
# Re-pin the test environment: resolve ".[test]" afresh on the default Python, write the
# versions to constraints/test.txt, and check that they also resolve on the other
# supported Pythons (pip --dry-run). Run it when pyproject.toml's dependencies change.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q -e ".[test]"
{
    echo "# The test environment, pinned (make test installs with -c this file): one set of versions"
    echo "# that resolves on Python 3.11, 3.12 and 3.13. Regenerate with tools/lock-test-env.sh."
    "$work/venv/bin/pip" freeze --exclude-editable | grep -v '^gannet-mlops'
} > constraints/test.txt
for py in python3.12 python3.13; do
    exe="$(bash tools/find-python.sh "$py")" || { echo "$py not installed: not checked"; continue; }
    "$exe" -m venv "$work/$py"
    "$work/$py/bin/pip" install -q --dry-run -e ".[test]" -c constraints/test.txt
    echo "constraints/test.txt resolves on $py"
done
