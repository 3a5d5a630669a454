"""A scripted fake PostgreSQL backend on 127.0.0.1 port 0.

For upstream behaviour Postgres will not produce on demand: malformed or oversized messages,
a close in the middle of startup, odd answers to SSLRequest, unsolicited async messages. A test
passes a script, a function called with a BackendSession for every accepted connection (in
its own thread). Exceptions raised by scripts are collected in FakeBackend.errors so the test
can assert there were none.

Standard library only; message formats follow "Message Formats" in the PostgreSQL docs.
"""

import socket
import struct
import threading
import time

PROTOCOL_3_0 = 196608
SSL_REQUEST_CODE = 80877103
GSSENC_REQUEST_CODE = 80877104
CANCEL_REQUEST_CODE = 80877102
MAX_STARTUP_LENGTH = 10000


# -- backend message builders ---------------------------------------------------------------

def _cstr(text) -> bytes:
    return (text.encode() if isinstance(text, str) else text) + b"\0"


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def auth_ok() -> bytes:
    return message(b"R", struct.pack("!i", 0))


def auth_cleartext() -> bytes:
    return message(b"R", struct.pack("!i", 3))


def parameter_status(name: str, value: str) -> bytes:
    return message(b"S", _cstr(name) + _cstr(value))


def backend_key_data(pid: int, key: int) -> bytes:
    return message(b"K", struct.pack("!ii", pid, key))


def ready_for_query(status: bytes = b"I") -> bytes:
    return message(b"Z", status)


def error_response(code: str, text: str, severity: str = "ERROR") -> bytes:
    body = _cstr("S" + severity) + _cstr("V" + severity) + _cstr("C" + code) + _cstr("M" + text)
    return message(b"E", body + b"\0")


def notice_response(text: str) -> bytes:
    return message(b"N", _cstr("SNOTICE") + _cstr("VNOTICE") + _cstr("C00000") +
                   _cstr("M" + text) + b"\0")


def notification(pid: int, channel: str, payload: str) -> bytes:
    return message(b"A", struct.pack("!i", pid) + _cstr(channel) + _cstr(payload))


def row_description(names) -> bytes:
    body = struct.pack("!h", len(names))
    for name in names:
        # table oid, column number, type oid (text), type size, type modifier, format code
        body += _cstr(name) + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0)
    return message(b"T", body)


def data_row(values) -> bytes:
    body = struct.pack("!h", len(values))
    for value in values:
        if value is None:
            body += struct.pack("!i", -1)
        else:
            data = value.encode() if isinstance(value, str) else value
            body += struct.pack("!i", len(data)) + data
    return message(b"D", body)


def command_complete(tag: str) -> bytes:
    return message(b"C", _cstr(tag))


def negotiate_protocol_version(newest_minor: int, unrecognised) -> bytes:
    body = struct.pack("!ii", newest_minor, len(unrecognised))
    return message(b"v", body + b"".join(_cstr(o) for o in unrecognised))


# -- server ----------------------------------------------------------------------------------

class Startup:
    """What a connection opened with: code is PROTOCOL_3_0 (or another version), or
    CANCEL_REQUEST_CODE with pid/key set."""

    def __init__(self, code, params=None, pid=None, key=None, ssl_requested=False):
        self.code = code
        self.params = params or {}
        self.pid = pid
        self.key = key
        self.ssl_requested = ssl_requested

    @property
    def is_cancel(self):
        return self.code == CANCEL_REQUEST_CODE


class BackendSession:
    """One accepted connection, as seen by the fake server. Reads have deadlines."""

    def __init__(self, sock, timeout):
        self.sock = sock
        self.timeout = timeout
        self.buffer = b""

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self, deadline) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("fake backend: peer sent nothing in time")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("fake backend: peer sent nothing in time") from None
        except (ConnectionResetError, BrokenPipeError):
            return False
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _take(self, n, deadline):
        while len(self.buffer) < n:
            if not self._fill(deadline):
                return None
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def read_startup(self, ssl_answer: bytes = b"N", timeout=None) -> Startup:
        """Reads the startup packet, answering SSLRequest with ssl_answer and GSSENCRequest
        with 'N' first. Returns None if the peer closed."""
        deadline = time.monotonic() + (timeout or self.timeout)
        ssl_requested = False
        while True:
            header = self._take(4, deadline)
            if header is None:
                return None
            (length,) = struct.unpack("!i", header)
            if length < 8 or length > MAX_STARTUP_LENGTH:
                raise ValueError(f"fake backend: bad startup length {length}")
            body = self._take(length - 4, deadline)
            if body is None:
                return None
            (code,) = struct.unpack_from("!i", body, 0)
            if code == SSL_REQUEST_CODE:
                ssl_requested = True
                self.send(ssl_answer)
                if ssl_answer != b"N":
                    return Startup(code, ssl_requested=True)
                continue
            if code == GSSENC_REQUEST_CODE:
                self.send(b"N")
                continue
            if code == CANCEL_REQUEST_CODE:
                pid, key = struct.unpack_from("!ii", body, 4)
                return Startup(code, pid=pid, key=key, ssl_requested=ssl_requested)
            parts = body[4:].split(b"\0")
            params = {parts[i].decode(): parts[i + 1].decode()
                      for i in range(0, len(parts) - 1, 2) if parts[i]}
            return Startup(code, params, ssl_requested=ssl_requested)

    def read_message(self, timeout=None):
        """(kind, payload) of the next frontend message, or None when the peer closed."""
        deadline = time.monotonic() + (timeout or self.timeout)
        header = self._take(5, deadline)
        if header is None:
            return None
        (length,) = struct.unpack_from("!i", header, 1)
        payload = self._take(length - 4, deadline)
        if payload is None:
            return None
        return header[:1], payload

    def handshake(self, pid=4242, key=0x5EC2E7, parameters=None):
        """The server side of a trust login: AuthenticationOk ... ReadyForQuery."""
        params = {"server_version": "15.99 (fake)", "server_encoding": "UTF8",
                  "client_encoding": "UTF8", "DateStyle": "ISO, MDY",
                  "integer_datetimes": "on", "standard_conforming_strings": "on"}
        params.update(parameters or {})
        data = auth_ok()
        for name, value in params.items():
            data += parameter_status(name, value)
        self.send(data + backend_key_data(pid, key) + ready_for_query())

    def wait_closed(self, timeout) -> bool:
        """True when the peer closes within timeout seconds (data read meanwhile is kept)."""
        deadline = time.monotonic() + timeout
        try:
            while self._fill(deadline):
                pass
        except TimeoutError:
            return False
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class FakeBackend:
    """Listens on 127.0.0.1:0 and runs script(session) for each connection in a thread."""

    def __init__(self, script, timeout=10.0):
        self.script = script
        self.timeout = timeout
        self.host = "127.0.0.1"
        self.port = None
        self.errors = []
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = None
        self._threads = []
        self._stopping = threading.Event()
        self._accept_thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(64)
        # A short accept timeout lets the thread notice stop(); it is a poll period only.
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._accept_thread.start()
        return self

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock):
        session = BackendSession(sock, self.timeout)
        try:
            self.script(session)
        except Exception as e:  # Reported to the test through self.errors.
            with self._lock:
                self.errors.append(e)
        finally:
            session.close()

    def join(self, timeout=10.0):
        """Waits for the scripts of all connections accepted so far to return."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise TimeoutError("fake backend: a script is still running")

    def stop(self, timeout=10.0):
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout)
        for thread in self._threads:
            thread.join(timeout)
