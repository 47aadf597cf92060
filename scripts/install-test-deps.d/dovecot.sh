#!/usr/bin/env bash
# Dovecot (IMAP + LMTP) for the email channel's IMAP tests: tests/connectors/email/.
# The tests run it as root from a private config under their tmp path, on 127.0.0.1 only;
# the system service stays off. Idempotent: does nothing when dovecot is already there.
set -euo pipefail

if command -v dovecot >/dev/null 2>&1 && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/lmtp ]; then
    echo "dovecot: already installed ($(dovecot --version))"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
# Keep the package's service from starting: the tests start their own instance.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends dovecot-imapd dovecot-lmtpd
echo "dovecot: installed ($(dovecot --version))"
