"""Child server processes for tests and benchmarks: a free port, and waiting until one listens."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(
    process: subprocess.Popen, port: int, what: str, *, timeout: float = 30.0, output=None
) -> None:
    """Return once `process` accepts connections on `port`; raise (with its output, when
    given) if it exits first or does not listen within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    exited = False
    while time.monotonic() < deadline and not exited:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            pass
        try:
            process.wait(timeout=0.05)  # a short bounded wait that also notices the child dying
            exited = True
        except subprocess.TimeoutExpired:
            pass
    if not exited:
        process.kill()
    said = ""
    if output is not None:
        output.seek(0)
        said = f":\n{output.read()}"
    if exited:
        raise RuntimeError(f"{what} exited with {process.returncode}{said}")
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:g} s{said}")
