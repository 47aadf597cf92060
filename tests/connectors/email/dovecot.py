"""A private Dovecot (IMAP + LMTP) on 127.0.0.1 for the IMAP tests.

Installed by scripts/install-test-deps.d/dovecot.sh; the tests fail (never skip) with
that hint when it is missing. It runs from a config written under a fresh directory,
as root when the tests are root, and is stopped when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

INSTALL_HINT = "run scripts/install-test-deps.d/dovecot.sh (installs dovecot-imapd and -lmtpd)"
USER = "support@example.com"
PASSWORD = "test-imap-password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")
    if not found or not Path("/usr/lib/dovecot/imap").exists():
        pytest.fail(f"dovecot is not installed: {INSTALL_HINT}", pytrace=False)
    return found


class Dovecot:
    """`imap_port` speaks IMAP (IDLE, MOVE, no TLS); `lmtp_port` delivers into the box."""

    def __init__(self) -> None:
        self.binary = dovecot_binary()
        # Short: dovecot's unix sockets live under base_dir (108-byte path limit).
        self.root = Path(tempfile.mkdtemp(prefix="fd-dovecot-"))
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.config = self.root / "dovecot.conf"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        root = self.root
        root.chmod(0o755)  # dovecot's auth process runs as the unprivileged `dovecot` user
        for name in ("run", "state", "mail", "home"):
            (root / name).mkdir()
        (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        uid, gid = os.getuid(), os.getgid()
        if uid == 0:  # dovecot refuses to access mail as root: store it as `nobody`
            nobody = pwd.getpwnam("nobody")
            uid, gid = nobody.pw_uid, nobody.pw_gid
            for name in ("mail", "home"):
                os.chown(root / name, uid, gid)
        self.config.write_text(
            f"""
protocols = imap lmtp
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%n
first_valid_uid = {uid}
first_valid_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@example.com
}}
"""
        )
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in (self.imap_port, self.lmtp_port):
            self._wait_for(port)

    def _wait_for(self, port: int) -> None:
        for _ in range(300):
            assert self.process is not None
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                pytest.fail(f"dovecot exited: {stderr}{self.log()}", pytrace=False)
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return
            time.sleep(0.05)
        pytest.fail(f"dovecot did not listen on {port}: {self.log()}", pytrace=False)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)
