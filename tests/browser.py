"""Helpers for browser tests: Debian's Chromium (installed with apt when missing, never a browser
download) and a `journey serve` subprocess on a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

CHROMIUM = Path("/usr/bin/chromium")
#: Headless, and nothing that would reach the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt-get (as root) when it is not there yet."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([apt, "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=True, env=env, timeout=1200)
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `journey serve`: its base URL and what it has printed so far."""

    base: str
    log: IO[str]

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


@contextmanager
def journey_serve(
    database_url: str, env: dict[str, str] | None = None, timeout: float = 60, args: Sequence[str] = ()
) -> Iterator[Server]:
    """`journey serve` as a user starts it, on a free port; yields it, stops it after."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "journey.cli",
        "serve",
        "--port",
        str(port),
        "--database-url",
        database_url,
        *args,
    ]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:  # the server's output (shown when it fails to start)
        proc = subprocess.Popen(
            command, env=os.environ | (env or {}), stdout=log, stderr=subprocess.STDOUT, text=True
        )
        try:
            _wait_healthy(base, proc, log, timeout)
            yield Server(base, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(base: str, proc: subprocess.Popen[str], log: IO[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            output = log.read()
            raise RuntimeError(f"journey serve exited with {proc.returncode}:\n{output}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"journey serve did not answer {base}/health within {timeout} s")
