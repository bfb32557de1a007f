#!/usr/bin/env bash
# Print the path of a Python interpreter named like "python3.13" (or "3.13"): the one on the
# PATH when it runs, else pyenv's newest matching version. Exit 1 when there is none.
set -uo pipefail
want="${1:?usage: find-python.sh python3.X}"
version="${want#python}"
if command -v "$want" >/dev/null 2>&1 && "$want" -c 'import sys' >/dev/null 2>&1; then
    "$want" -c 'import sys; print(sys.executable)'
    exit 0
fi
root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
for dir in $(ls -d "$root"/versions/"$version"* 2>/dev/null | sort -V -r); do
    if [ -x "$dir/bin/python$version" ]; then
        echo "$dir/bin/python$version"
        exit 0
    fi
done
exit 1
