#!/usr/bin/env bash
# Start what the tests need when it is not running: the local PostgreSQL server.
# (Tests read GANNET_TEST_POSTGRES_URL; when it points elsewhere, we leave it alone.)
# And install what they need when it is missing: Debian's Chromium, which the web UI's
# browser tests drive with Playwright (Playwright's own browser download is never used).
set -u
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the web UI's browser tests"
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo -n"
  $sudo_ apt-get install -y -q chromium >/dev/null \
    || { $sudo_ apt-get update -q >/dev/null && $sudo_ apt-get install -y -q chromium >/dev/null; } \
    || echo "could not install chromium: the web UI's browser tests will fail" >&2
fi
url="${GANNET_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"
case "$url" in *127.0.0.1:5432*|*localhost:5432*) ;; *) exit 0 ;; esac
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi
if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | head -n 1)
  echo "starting PostgreSQL $version for the tests"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done
fi
echo "PostgreSQL is not reachable at 127.0.0.1:5432; PostgreSQL tests will skip (or fail under CI)" >&2
exit 0
