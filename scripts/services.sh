#!/usr/bin/env bash
# Install (where missing) and start what the service tests need: a PostgreSQL server and
# Debian's Chromium (Playwright drives /usr/bin/chromium; its own browser download cannot work
# offline). Source it: it exports CONFIDE_TEST_PG_URL. Safe to run again: a running server is kept.
# Without root (no apt, no runuser) it warns; the PostgreSQL and browser tests then skip with a reason.

confide_services() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "== installing ${missing[*]} from Debian's packages" >&2
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "warning: ${missing[*]} missing and cannot be installed here (needs root + apt); those tests will skip" >&2
    fi
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || return 0
  local port=${CONFIDE_PG_PORT:-54329}
  local dir=${CONFIDE_PG_DIR:-/tmp/confide-test-pg}
  local as=()
  if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); fi
  if ! (cd /tmp && "${as[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1); then
    echo "== starting PostgreSQL on port $port ($dir)" >&2
    rm -rf "$dir" && mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    # run from $dir: the postgres user may not be allowed into the checkout's directory
    (cd "$dir" && "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U confide >/dev/null)
    (cd "$dir" && "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100" start >/dev/null)
  fi
  export CONFIDE_TEST_PG_URL="postgresql://confide@127.0.0.1:$port/postgres"
}
confide_services
