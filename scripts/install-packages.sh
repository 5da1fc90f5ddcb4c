#!/usr/bin/env bash
# Installs the Debian packages a job needs, only those missing, and says what it installs.
#   scripts/install-packages.sh build   ICU (names: UTS #46, UTS #39) and GNU readline (routerctl's shell), SQLite (routerd --db)
#   scripts/install-packages.sh test    the build's, plus socat and tmux (tests run clients as separate
#                                       processes and drive the shell through a terminal) and man-db
#                                       (a test reads the man pages with man -l), redis-server (the
#                                       shared store's tests start servers of their own), curl and
#                                       openssl (the HTTP API's tests, HTTPS with a test certificate),
#                                       python3-venv (scripts/api-check.sh installs its PyPI tools
#                                       into a virtual environment), haproxy (the reference proxy
#                                       of routergw's request-smuggling tests), iproute2 (ss shows a
#                                       listening socket's backlog), bind9-dnsutils (dig asks
#                                       routerd's DNS in its tests), bind9 (named, routerd's
#                                       secondary in the transfer tests) and etcd-server and
#                                       etcd-client (the etcd store's tests start clusters of their
#                                       own; etcdctl inspects and compacts them)
#   scripts/install-packages.sh bench   the build's, plus haproxy, wrk and nginx-light (router-bench
#                                       gateway: HAProxy beside routergw, nginx behind both), and
#                                       dnsperf, nsd, bind9 and bind9-dnsutils (router-bench dns)
# Runs apt-get through sudo when not root. Needs a Debian-like system with apt-get.
set -euo pipefail

packages=(libicu-dev libreadline-dev libsqlite3-dev)
case "${1:-build}" in
  build) ;;
  test) packages+=(socat tmux man-db redis-server curl openssl python3-venv haproxy iproute2 bind9-dnsutils bind9 etcd-server etcd-client) ;;
  bench) packages+=(haproxy wrk nginx-light dnsperf nsd bind9 bind9-dnsutils) ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 64 ;;
esac

missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-packages: missing ${missing[*]} and there is no apt-get here; install them with your system's package manager" >&2
  exit 69
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-packages: missing ${missing[*]}; run as root or install sudo" >&2; exit 77; }
  sudo=(sudo)
fi
echo "install-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
