"""Runs the switchyard binary (env SWITCHYARD_BIN) in front of a cluster."""

import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile

from .util import can_connect, free_port, tail, wait_until

_live_proxies = set()
# The "listening" event in the text and the JSON log formats (not "admin_listening").
_LISTENING = re.compile(r'event"?[=:]"?listening\b')
_LEVELS_WITH_INFO = ("trace", "debug", "info")


@atexit.register
def _kill_leftovers():
    for proxy in list(_live_proxies):
        proxy.kill()


def binary():
    """The switchyard executable under test, or None when the tests run against Postgres."""
    path = os.environ.get("SWITCHYARD_BIN")
    if not path:
        return None
    # The proxy runs in a directory of its own: a relative path means one from here, a bare
    # name one on PATH.
    return os.path.abspath(path) if os.sep in path else (shutil.which(path) or path)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def render_config(tables: dict) -> str:
    """Renders {"section": {"key": value}} as TOML; None values and sections are left out.

    A list of dicts renders as an array of tables: {"migration": [{...}, {...}]} gives two
    [[migration]] entries.
    """
    lines = []
    for section, keys in tables.items():
        if keys is None:
            continue
        entries, header = ([keys], f"[{section}]") if isinstance(keys, dict) else (
            keys, f"[[{section}]]")
        for entry in entries:
            lines.append(header)
            for key, value in entry.items():
                if value is not None:
                    lines.append(f"{key} = {_toml_value(value)}")
            lines.append("")
    return "\n".join(lines)


class SwitchyardProxy:
    """One switchyard process with a generated config.

    upstream_port: where Postgres listens (nothing needs to listen there for the
    "upstream unreachable" tests). upstream_tls: disable|prefer|require|verify-full.
    client_tls: a KeyPair for client-facing TLS, or None for SSLRequest answered 'N'.
    timeouts: {"startup": "1s", "drain": "5s", ...}. extra: more TOML sections (they replace
    generated ones of the same name). extra_args: more command-line arguments for `serve`.
    wrapper: a command the binary runs under (("taskset", "-c", "0")). listen_options: more
    keys of [listen] ({"unix_socket_directory": "/tmp/x"}). log_level_flag: pass log_level
    as --log-level too (which outranks [log] level, also at reloads); False leaves it to the
    file.
    """

    def __init__(self, upstream_port, upstream_tls="disable", ca_file=None, client_tls=None,
                 timeouts=None, extra=None, log_level="debug", upstream_host="127.0.0.1",
                 extra_args=(), wrapper=(), listen_options=None, log_level_flag=True):
        self.host = "127.0.0.1"
        self.port = None
        self.upstream = f"{upstream_host}:{upstream_port}"
        self.upstream_tls = upstream_tls
        self.ca_file = ca_file
        self.client_tls = client_tls
        self.timeouts = dict(timeouts or {})
        self.extra = dict(extra or {})
        self.log_level = log_level
        self.log_level_flag = log_level_flag
        self.extra_args = list(extra_args)
        self.wrapper = list(wrapper)
        self.listen_options = dict(listen_options or {})
        self.directory = None
        self.config_path = None
        self.logfile = None
        self.process = None
        self.returncode = None
        self.stopping = False
        self._saved_log = ""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def config_text(self) -> str:
        tables = {
            "listen": {"address": f"{self.host}:{self.port}", **self.listen_options},
            "upstream": {"address": self.upstream, "tls": self.upstream_tls,
                         "ca_file": self.ca_file},
            "tls": ({"cert": self.client_tls.cert, "key": self.client_tls.key}
                    if self.client_tls else None),
            "timeouts": self.timeouts or None,
            "log": {"level": self.log_level},
        }
        tables.update(self.extra)
        return render_config(tables)

    def start(self, timeout=15.0, port=None):
        """Starts the process on `port` (default: a free one) and waits until it accepts."""
        path = binary()
        if not path:
            raise RuntimeError("SWITCHYARD_BIN is not set")
        self.directory = tempfile.mkdtemp(prefix="switchyard-proxy-")
        self.port = port or free_port()
        self.config_path = os.path.join(self.directory, "switchyard.toml")
        with open(self.config_path, "w") as f:
            f.write(self.config_text())
        self.logfile = os.path.join(self.directory, "switchyard.log")
        with open(self.logfile, "wb") as log:
            self.process = subprocess.Popen(
                [*self.wrapper, path, "serve", "--config", self.config_path,
                 *(["--log-level", self.log_level] if self.log_level_flag else []),
                 *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.directory)
        _live_proxies.add(self)

        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"switchyard exited with {self.process.returncode} before "
                                   f"accepting connections:\n{self.log_tail()}")
            # The proxy logs it listens (at info) once the client port and any admin port
            # accept, so a test may scrape the admin endpoint at once. A port that merely
            # accepts could be another process's, picked by free_port() in a race.
            if self.log_level in _LEVELS_WITH_INFO and not _LISTENING.search(self.log_text()):
                return False
            return can_connect(self.host, self.port, timeout=0.2)

        try:
            wait_until(ready, timeout, what="switchyard to accept connections")
        except TimeoutError as e:
            self.kill()
            raise RuntimeError(f"{e}\n{self.log_tail()}") from None
        return self

    def signal(self, signum=signal.SIGTERM):
        if signum in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
            self.stopping = True
        self.process.send_signal(signum)

    def crashed(self) -> bool:
        """True when the process exited without being asked to (a crash or a bad exit)."""
        return (self.process is not None and not self.stopping
                and self.process.poll() is not None)

    def wait(self, timeout):
        """Waits for the process to exit; returns its status or None if still running."""
        try:
            self.returncode = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        _live_proxies.discard(self)
        return self.returncode

    def stop(self, timeout=15.0):
        """SIGTERM, a bounded wait, then SIGKILL. Returns the exit status."""
        if self.process is None:
            return self.returncode
        self.stopping = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.kill()
        self.returncode = self.process.returncode
        _live_proxies.discard(self)
        return self.returncode

    def close(self):
        """Stops the process and removes its directory (config and log)."""
        self.stop()
        if self.directory:
            # Keep the log in memory: a failing test prints it after its cleanups ran.
            self._saved_log = self.log_text()
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
            self.logfile = None

    def kill(self):
        self.stopping = True
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process is not None:
            self.returncode = self.process.returncode
        _live_proxies.discard(self)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        if not self.logfile:
            return self._saved_log
        with open(self.logfile, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_tail(self, max_bytes=24000) -> str:
        # Large enough for a whole sanitizer report, whose first lines matter most.
        if not self.logfile:
            return self._saved_log[-max_bytes:] or "<no log>"
        return tail(self.logfile, max_bytes)

    def wait_for_log(self, needle, timeout):
        """Waits until the log contains needle (bounded)."""
        return wait_until(lambda: needle in self.log_text(), timeout, what=f"log line {needle!r}")


def start_for_class(test_class, upstream_port, **kwargs) -> SwitchyardProxy:
    """Starts a proxy for a unittest class and registers its stop as a class cleanup."""
    proxy = SwitchyardProxy(upstream_port, **kwargs)
    proxy.start()
    test_class.addClassCleanup(proxy.close)
    return proxy
