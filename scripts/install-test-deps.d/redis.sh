#!/usr/bin/env bash
# redis-server and redis-cli for the Redis store's tests. The tests start their own private
# server, and a three-master cluster (`redis-cli --cluster create`), on free loopback ports;
# they never use a system Redis service. Idempotent.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends redis-server redis-tools
# Debian starts a service on 6379 after installing; the tests do not need it.
$SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
