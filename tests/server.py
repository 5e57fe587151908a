"""Runs the real server process (`python -m bot`) for end-to-end tests (and bench/ack.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bot.config import ENV_VARS

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**overrides: str) -> dict[str, str]:
    """The process environment for a child `python -m bot`: none of the app's settings from the
    developer's own setup leak in."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update(overrides)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_cli(*args: str, env: dict[str, str], cwd: str | Path | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=timeout)


class ServerProcess:
    """A server subprocess on a loopback port (`command()`, by default `python -m bot`), started once
    its /healthz answers 200; its output goes to a log file."""

    name = "server"
    log_prefix = "picmim-server-"

    def __init__(self, env: dict[str, str], cwd: str | Path | None = None):
        self.port = int(env.get("PORT") or free_port())
        self.env = {**env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.cwd = cwd or ROOT
        self.url = f"http://127.0.0.1:{self.port}"
        # The log lives in the (temporary) working folder, so it goes away with it.
        self._log = tempfile.NamedTemporaryFile(prefix=self.log_prefix, suffix=".log", delete=False, dir=cwd)
        self.log_path = Path(self._log.name)
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bot"]

    def start(self, timeout: float = 60) -> ServerProcess:
        self.proc = subprocess.Popen(self.command(), env=self.env, cwd=self.cwd, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not become healthy:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode
