#!/usr/bin/env bash
# Start what the tests need when it is not running: the local PostgreSQL server, Redis.
# (Tests read GANNET_TEST_POSTGRES_URL; when it points elsewhere, we leave it alone.)
# And install what they need when it is missing: Debian's Chromium, which the web UI's
# browser tests drive with Playwright (Playwright's own browser download is never used),
# and axe-core for their accessibility check (.cache/axe-core, from the npm registry).
set -u
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the web UI's browser tests"
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo -n"
  $sudo_ apt-get install -y -q chromium >/dev/null \
    || { $sudo_ apt-get update -q >/dev/null && $sudo_ apt-get install -y -q chromium >/dev/null; } \
    || echo "could not install chromium: the web UI's browser tests will fail" >&2
fi
# axe-core (the browser tests' accessibility check), from the npm registry, once, into a
# git-ignored cache; the tests serve it to each page themselves (never from a CDN).
ensure_axe() {
  cache="$(cd "$(dirname "$0")/.." && pwd)/.cache/axe-core"
  [ -s "$cache/axe.min.js" ] && return 0
  if ! command -v npm >/dev/null && command -v apt-get >/dev/null; then
    echo "installing Debian's npm to fetch axe-core"
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo -n"
    $sudo_ apt-get install -y -q npm >/dev/null \
      || { $sudo_ apt-get update -q >/dev/null && $sudo_ apt-get install -y -q npm >/dev/null; } || true
  fi
  if ! command -v npm >/dev/null; then
    echo "npm is missing: the web UI's accessibility check will skip (or fail under CI)" >&2
    return 0
  fi
  echo "fetching axe-core 4 from the npm registry for the web UI's accessibility check"
  mkdir -p "$cache" && tmp=$(mktemp -d) || return 0
  if (cd "$tmp" && npm pack --silent axe-core@4 >/dev/null 2>&1) \
      && tar -xzf "$tmp"/axe-core-*.tgz -C "$tmp" package/axe.min.js package/package.json \
      && cp "$tmp/package/package.json" "$cache/package.json" \
      && mv "$tmp/package/axe.min.js" "$cache/axe.min.js"; then :
  else
    echo "could not fetch axe-core: the web UI's accessibility check will skip (or fail under CI)" >&2
  fi
  rm -rf "$tmp"
  return 0
}
ensure_axe

ensure_postgres() {
  url="${GANNET_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test}"
  case "$url" in *127.0.0.1:5432*|*localhost:5432*) ;; *) return 0 ;; esac
  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then return 0; fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | head -n 1)
    echo "starting PostgreSQL $version for the tests"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 1; done
  fi
  echo "PostgreSQL is not reachable at 127.0.0.1:5432; PostgreSQL tests will skip (or fail under CI)" >&2
  return 0
}
ensure_postgres

# Redis at 127.0.0.1:6379 (the feature store's online store in team mode; tests use db 15).
# (Tests read GANNET_TEST_REDIS_URL; when it points elsewhere, we leave it alone.)
redis_url="${GANNET_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
case "$redis_url" in *127.0.0.1:6379*|*localhost:6379*) ;; *) exit 0 ;; esac
if command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then exit 0; fi
if command -v redis-server >/dev/null; then
  echo "starting Redis for the tests"
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no >/dev/null || true
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && exit 0; sleep 0.5; done
fi
echo "Redis is not reachable at 127.0.0.1:6379; Redis tests will skip (or fail under CI)" >&2
exit 0
