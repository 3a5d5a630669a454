"""Small helpers shared by the harness: free ports, bounded waits, log tails."""

import os
import socket
import time


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that was free a moment ago.

    Binding port 0 and closing leaves a small race with other processes; the tests accept it
    because every user of the port fails loudly if it was taken.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.02, what: str = "condition"):
    """Polls predicate until it returns a truthy value or timeout seconds pass.

    Returns the truthy value; raises TimeoutError naming what was awaited otherwise. The
    interval is a poll period, not a synchronisation delay: the wait ends as soon as the
    condition holds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def can_connect(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connection to host:port is accepted.

    A connect to a port nobody listens on can still succeed when the kernel picks that same
    port as the source (a TCP self-connect), so such a connection does not count.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            return s.getsockname() != s.getpeername()
    except OSError:
        return False


def tail(path: str, max_bytes: int = 8000) -> str:
    """The last max_bytes of a log file, for failure messages."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"


def socket_inodes(pid: int) -> set:
    """The inode numbers (as /proc/net/tcp prints them) of the sockets process pid holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def line_of(path: str, text: str) -> int:
    """The 1-based number of the first line of file `path` that holds `text`."""
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            if text in line:
                return number
    raise AssertionError(f"{text!r} is not in {path}")
