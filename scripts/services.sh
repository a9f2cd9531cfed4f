# Sourced by scripts/test and scripts/up: makes sure PostgreSQL and Redis answer on
# 127.0.0.1, starting them, or installing them from Debian's packages, when they do not, and
# that the SMTP receiver (aiosmtpd) is installed.
# Tests that need them fail (never skip) when they are absent, so this runs first.

meridian_log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $* missing and apt-get is not available: install $* yourself" >&2
    return 1
  fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  meridian_log "installing $* (apt-get)"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

ensure_postgres() {
  postgres_up && return 0
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  meridian_log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
  postgres_up || { echo "error: PostgreSQL did not start on 127.0.0.1:5432" >&2; return 1; }
  # Tests connect as postgres over TCP without a password, as on this machine kind.
  local hba
  hba=$(su postgres -c "psql -tAc 'show hba_file'" 2>/dev/null || true)
  if [ -n "$hba" ] && ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    su postgres -c "psql -qc 'select pg_reload_conf()'" >/dev/null
  fi
}

ensure_redis() {
  redis_up && return 0
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  meridian_log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "error: Redis did not start on 127.0.0.1:6379" >&2; return 1; }
}

# The SMTP receiver the cores' e-mail goes to locally and in tests: Debian's aiosmtpd, which
# keeps every message in a maildir.
ensure_mail_receiver() {
  /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || apt_install python3-aiosmtpd
}

ensure_services() {
  command -v pg_isready >/dev/null 2>&1 || apt_install postgresql-client
  command -v redis-cli >/dev/null 2>&1 || apt_install redis-tools
  ensure_postgres
  ensure_redis
  ensure_mail_receiver
}

# The browser test (tests/e2e/browser.rs): Debian's Chromium, and Playwright's client from
# npm (no browser download: it drives /usr/bin/chromium).
ensure_browser() {
  command -v chromium >/dev/null 2>&1 || apt_install chromium
  command -v node >/dev/null 2>&1 || apt_install nodejs npm
  if [ ! -d tests/browser/node_modules/playwright-core ]; then
    meridian_log "installing playwright-core (npm ci in tests/browser)"
    (cd tests/browser && npm ci --no-audit --no-fund --silent)
  fi
}
