"""Helpers for end-to-end service tests: a real uvicorn server in a subprocess, keys, a model.

Import as ``from tests.service.live_server import ...``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from confide.decision import ThresholdPolicy
from confide.store import create_engine, keys, upgrade

__all__ = [
    "CLASSES",
    "LiveServer",
    "create_keys",
    "free_port",
    "register_model",
    "unique_name",
]

CLASSES = ["cat", "dog", "bird"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class LiveServer:
    """``python -m uvicorn confide.service:create_app --factory`` on a free port."""

    def __init__(self, db_url: str, log_path: Path, **env: str) -> None:
        self.db_url = db_url
        self.log_path = log_path
        self.extra_env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 45.0) -> LiveServer:
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = free_port()
            env = {**os.environ, "CONFIDE_DB_URL": self.db_url, **self.extra_env}
            log = self.log_path.open("ab")
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "confide.service:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            if self._wait_ready(timeout):
                return self
            self.kill()
        raise RuntimeError(f"the server did not start; log:\n{self.log()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2.0).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        return False

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, like a power cut of the process."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def create_keys(db_url: str, **names: str) -> dict[str, str]:
    """Migrate ``db_url`` and create one key per ``name=role``; returns name -> secret."""
    engine = create_engine(db_url)
    try:
        upgrade(engine)
        out = {}
        with engine.begin() as conn:
            for name, role in names.items():
                out[name] = keys.create_key(conn, name=name, role=role, actor="test")[1]
        return out
    finally:
        engine.dispose()


def register_model(base_url: str, admin_key: str, name: str, threshold: float = 0.6) -> Any:
    """Register ``name`` (classes cat/dog/bird, no calibrator, ThresholdPolicy(threshold))."""
    r = httpx.post(
        f"{base_url}/api/v1/models",
        json={
            "name": name,
            "classes": CLASSES,
            "policy": ThresholdPolicy(threshold).to_dict(),
        },
        headers={"Authorization": f"Bearer {admin_key}"},
        timeout=30.0,
    )
    assert r.status_code == 201, r.text
    return r.json()
