#!/usr/bin/env bash
# Debian's Chromium for the web chat browser tests (tests/e2e/test_webchat_browser.py).
# Idempotent: does nothing when /usr/bin/chromium is already there. Playwright drives this
# browser through `executable_path`; it never downloads one of its own.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-noto-cjk
