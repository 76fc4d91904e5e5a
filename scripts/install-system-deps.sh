#!/usr/bin/env bash
# Installs the system programs the test suite drives for real: nginx and haproxy (the load
# balancers), chromium and chromedriver (render the report, drive the playground), tcpdump
# (checks the byte counts), postgresql and redis-server (the batch job's PostgreSQL and Redis
# stores), npm (fetches GraphiQL's scripts so /graphql works offline), wrk and h2load
# (nghttp2-client), the native load drivers of `protobench bench --driver native`,
# thrift-compiler (checks the generated Thrift code is current) and mosquitto (the MQTT 5 broker
# the MQTT tests start). Uses apt-get when it can; otherwise says what to install and fails, so
# a missing program is never a silently skipped test.
set -euo pipefail

has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
has_initdb() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; }

missing=()
has nginx || missing+=(nginx)
has haproxy || missing+=(haproxy)
has chromium || missing+=(chromium)
has chromedriver || missing+=(chromium-driver)
has npm || missing+=(npm)
has tcpdump || missing+=(tcpdump)
has_initdb || missing+=(postgresql)
has redis-server || missing+=(redis-server)
has wrk || missing+=(wrk)
has h2load || missing+=(nghttp2-client)
has thrift || missing+=(thrift-compiler)
has mosquitto || missing+=(mosquitto)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "protobench: installing system packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo -n"
if command -v apt-get >/dev/null 2>&1 && { [ -z "$sudo" ] || $sudo true 2>/dev/null; }; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
cat >&2 <<MSG
protobench: the tests need these programs and they could not be installed automatically:
  ${missing[*]}
On Debian/Ubuntu:   sudo apt-get install ${missing[*]}
Elsewhere, install nginx, haproxy, chromium, chromedriver, npm, tcpdump, postgresql,
redis-server, wrk, h2load, the Thrift compiler and mosquitto with your package manager, then
run make test.
MSG
exit 1
