"""A minimal PostgreSQL v3 wire-protocol client for edge cases drivers never produce.

Only what the tests need: message builders (which can be fed raw to send garbage), a framed
reader with timeouts, authentication (trust, cleartext, md5, SCRAM-SHA-256) and decoders for
the replies the tests inspect. See "Message Formats" in the PostgreSQL protocol docs.
"""

import base64
import hashlib
import hmac
import os
import socket
import ssl as ssl_module
import struct
import time

PROTOCOL_3_0 = 196608
SSL_REQUEST_CODE = 80877103
GSSENC_REQUEST_CODE = 80877104
CANCEL_REQUEST_CODE = 80877102

AUTH_OK = 0
AUTH_CLEARTEXT = 3
AUTH_MD5 = 5
AUTH_SASL = 10
AUTH_SASL_CONTINUE = 11
AUTH_SASL_FINAL = 12


class ProtocolError(Exception):
    """The peer sent something the test did not expect."""


class ServerError(Exception):
    """An ErrorResponse, with its fields by code letter (fields['C'] is the SQLSTATE)."""

    def __init__(self, fields):
        self.fields = fields
        super().__init__(f"{fields.get('S', '?')} {fields.get('C', '?')}: {fields.get('M', '')}")

    @property
    def sqlstate(self):
        return self.fields.get("C")


# -- builders ------------------------------------------------------------------------------

def _cstr(text) -> bytes:
    return (text.encode() if isinstance(text, str) else text) + b"\0"


def message(kind: bytes, body: bytes = b"") -> bytes:
    """A typed message: kind byte, int32 length including itself, body."""
    return kind + struct.pack("!i", len(body) + 4) + body


def untyped(body: bytes) -> bytes:
    """An untyped startup-phase packet: int32 length including itself, body."""
    return struct.pack("!i", len(body) + 4) + body


def startup(params: dict, version: int = PROTOCOL_3_0) -> bytes:
    body = struct.pack("!i", version)
    for key, value in params.items():
        body += _cstr(key) + _cstr(value)
    return untyped(body + b"\0")


def ssl_request() -> bytes:
    return untyped(struct.pack("!i", SSL_REQUEST_CODE))


def gssenc_request() -> bytes:
    return untyped(struct.pack("!i", GSSENC_REQUEST_CODE))


def cancel_request(pid: int, key: int) -> bytes:
    return untyped(struct.pack("!iii", CANCEL_REQUEST_CODE, pid, key))


def query(text: str) -> bytes:
    return message(b"Q", _cstr(text))


def parse(text: str, name: str = "", param_types=()) -> bytes:
    body = _cstr(name) + _cstr(text) + struct.pack("!h", len(param_types))
    body += b"".join(struct.pack("!I", oid) for oid in param_types)
    return message(b"P", body)


def bind(params=(), portal: str = "", statement: str = "", result_formats=()) -> bytes:
    """Bind with text-format parameters (None is NULL)."""
    body = _cstr(portal) + _cstr(statement) + struct.pack("!h", 0)
    body += struct.pack("!h", len(params))
    for value in params:
        if value is None:
            body += struct.pack("!i", -1)
        else:
            data = value.encode() if isinstance(value, str) else value
            body += struct.pack("!i", len(data)) + data
    body += struct.pack("!h", len(result_formats))
    body += b"".join(struct.pack("!h", f) for f in result_formats)
    return message(b"B", body)


def describe(kind: bytes = b"P", name: str = "") -> bytes:
    return message(b"D", kind + _cstr(name))


def execute(portal: str = "", max_rows: int = 0) -> bytes:
    return message(b"E", _cstr(portal) + struct.pack("!i", max_rows))


def close(kind: bytes = b"S", name: str = "") -> bytes:
    return message(b"C", kind + _cstr(name))


def sync() -> bytes:
    return message(b"S")


def flush() -> bytes:
    return message(b"H")


def terminate() -> bytes:
    return message(b"X")


def copy_data(data: bytes) -> bytes:
    return message(b"d", data)


def copy_done() -> bytes:
    return message(b"c")


# -- decoders ------------------------------------------------------------------------------

def parse_fields(payload: bytes) -> dict:
    """ErrorResponse / NoticeResponse fields by code letter."""
    fields = {}
    pos = 0
    while pos < len(payload) and payload[pos] != 0:
        code = chr(payload[pos])
        end = payload.index(b"\0", pos + 1)
        fields[code] = payload[pos + 1:end].decode("utf-8", "replace")
        pos = end + 1
    return fields


def parse_data_row(payload: bytes) -> list:
    (count,) = struct.unpack_from("!h", payload, 0)
    pos = 2
    values = []
    for _ in range(count):
        (length,) = struct.unpack_from("!i", payload, pos)
        pos += 4
        if length < 0:
            values.append(None)
        else:
            values.append(payload[pos:pos + length].decode())
            pos += length
    return values


def parse_row_description(payload: bytes) -> list:
    (count,) = struct.unpack_from("!h", payload, 0)
    pos = 2
    names = []
    for _ in range(count):
        end = payload.index(b"\0", pos)
        names.append(payload[pos:end].decode())
        pos = end + 1 + 18
    return names


def parse_row_description_types(payload: bytes) -> list:
    """The type OID of each column of a RowDescription."""
    (count,) = struct.unpack_from("!h", payload, 0)
    pos = 2
    types = []
    for _ in range(count):
        pos = payload.index(b"\0", pos) + 1
        types.append(struct.unpack_from("!I", payload, pos + 6)[0])
        pos += 18
    return types


def cstring(payload: bytes) -> str:
    return payload.split(b"\0", 1)[0].decode()


# -- connection ----------------------------------------------------------------------------

class RawConnection:
    """A socket speaking the protocol by hand. Every read has a deadline."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.host = host
        self.buffer = b""
        self.backend_pid = None
        self.backend_key = None
        self.parameters = {}
        self.notices = []

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self, deadline) -> bool:
        """Reads more bytes; False on EOF or reset (a close by the peer)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no reply from the server in time")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no reply from the server in time") from None
        except (ConnectionResetError, BrokenPipeError, ssl_module.SSLZeroReturnError,
                ssl_module.SSLEOFError):
            return False
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def read_byte(self, timeout=None):
        """One byte (the answer to SSLRequest/GSSENCRequest), or None on close."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.buffer:
            if not self._fill(deadline):
                return None
        byte, self.buffer = self.buffer[:1], self.buffer[1:]
        return byte

    def read_message(self, timeout=None):
        """(kind, payload) of the next message, or None when the peer closed."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buffer) < 5:
            if not self._fill(deadline):
                if self.buffer:
                    raise ProtocolError(f"connection closed inside a header: {self.buffer!r}")
                return None
        kind = self.buffer[:1]
        (length,) = struct.unpack_from("!i", self.buffer, 1)
        if length < 4:
            raise ProtocolError(f"bad length {length} for message {kind!r}")
        while len(self.buffer) < 1 + length:
            if not self._fill(deadline):
                raise ProtocolError(f"connection closed inside message {kind!r}")
        payload = self.buffer[5:1 + length]
        self.buffer = self.buffer[1 + length:]
        return kind, payload

    def read_until_closed(self, timeout=None):
        """All messages until the peer closes; TimeoutError if it stays open."""
        messages = []
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self.read_message(timeout=max(0.01, deadline - time.monotonic()))
            if msg is None:
                return messages
            messages.append(msg)

    def read_until_ready(self, timeout=None):
        """Messages up to and including ReadyForQuery. Raises if the peer closes first."""
        messages = []
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self.read_message(timeout=max(0.01, deadline - time.monotonic()))
            if msg is None:
                raise ProtocolError(f"connection closed before ReadyForQuery; got {messages}")
            self._note(msg)
            messages.append(msg)
            if msg[0] == b"Z":
                return messages

    def _note(self, msg):
        kind, payload = msg
        if kind == b"K":
            self.backend_pid, self.backend_key = struct.unpack("!ii", payload)
        elif kind == b"S":
            name, value = payload.split(b"\0")[:2]
            self.parameters[name.decode()] = value.decode()
        elif kind == b"N":
            self.notices.append(parse_fields(payload))

    # -- TLS -----------------------------------------------------------------------------

    def negotiate_tls(self, cafile=None, server_hostname=None):
        """SSLRequest; on 'S' wraps the socket. Returns the answer byte (b'S' or b'N')."""
        self.send(ssl_request())
        answer = self.read_byte()
        if answer == b"S":
            self.wrap_tls(cafile, server_hostname)
        return answer

    def wrap_tls(self, cafile=None, server_hostname=None):
        """Runs the TLS handshake on the socket (after an 'S'); raises ssl.SSLError/OSError."""
        context = ssl_module.create_default_context(cafile=cafile)
        if cafile is None:
            context.check_hostname = False
            context.verify_mode = ssl_module.CERT_NONE
        self.sock.settimeout(self.timeout)
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname or self.host)

    # -- startup -------------------------------------------------------------------------

    def start(self, user, database, password=None, extra=None, version=PROTOCOL_3_0):
        """Sends StartupMessage, authenticates and reads up to ReadyForQuery.

        Returns (auth_requests, messages): the authentication request codes seen in order
        (and for SASL the offered mechanisms), and every message after authentication.
        Raises ServerError for an ErrorResponse.
        """
        params = {"user": user, "database": database}
        params.update(extra or {})
        self.send(startup(params, version))
        auth_seen = []
        while True:
            msg = self.read_message()
            if msg is None:
                raise ProtocolError("connection closed during authentication")
            kind, payload = msg
            if kind == b"E":
                raise ServerError(parse_fields(payload))
            if kind == b"v":
                auth_seen.append(("negotiate", payload))
                continue
            if kind != b"R":
                raise ProtocolError(f"expected an authentication request, got {kind!r}")
            (code,) = struct.unpack_from("!i", payload, 0)
            if code == AUTH_OK:
                auth_seen.append(AUTH_OK)
                break
            if code == AUTH_CLEARTEXT:
                auth_seen.append(code)
                self.send(message(b"p", _cstr(password)))
            elif code == AUTH_MD5:
                auth_seen.append(code)
                salt = payload[4:8]
                inner = hashlib.md5((password + user).encode()).hexdigest()
                outer = hashlib.md5(inner.encode() + salt).hexdigest()
                self.send(message(b"p", _cstr("md5" + outer)))
            elif code == AUTH_SASL:
                mechanisms = [m.decode() for m in payload[4:].split(b"\0") if m]
                auth_seen.append((code, mechanisms))
                self._scram(password, mechanisms)
            else:
                raise ProtocolError(f"unsupported authentication request {code}")
        return auth_seen, self.read_until_ready()

    def _scram(self, password, mechanisms):
        if "SCRAM-SHA-256" not in mechanisms:
            raise ProtocolError(f"SCRAM-SHA-256 not offered: {mechanisms}")
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n=,r={nonce}"
        first = ("n,," + first_bare).encode()
        self.send(message(b"p", _cstr("SCRAM-SHA-256") + struct.pack("!i", len(first)) + first))
        server_first = self._sasl_reply(AUTH_SASL_CONTINUE).decode()
        attrs = dict(item.split("=", 1) for item in server_first.split(","))
        if not attrs["r"].startswith(nonce):
            raise ProtocolError("server nonce does not extend the client nonce")
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        final_bare = f"c=biws,r={attrs['r']}"
        auth_message = f"{first_bare},{server_first},{final_bare}".encode()
        signature = hmac.digest(stored_key, auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        final = f"{final_bare},p={base64.b64encode(proof).decode()}".encode()
        self.send(message(b"p", final))
        server_final = self._sasl_reply(AUTH_SASL_FINAL).decode()
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        expected = base64.b64encode(hmac.digest(server_key, auth_message, "sha256")).decode()
        if server_final != f"v={expected}":
            raise ProtocolError("SCRAM server signature does not verify")

    def _sasl_reply(self, expected_code) -> bytes:
        msg = self.read_message()
        if msg is None:
            raise ProtocolError("connection closed during SASL")
        kind, payload = msg
        if kind == b"E":
            raise ServerError(parse_fields(payload))
        (code,) = struct.unpack_from("!i", payload, 0)
        if kind != b"R" or code != expected_code:
            raise ProtocolError(f"expected SASL step {expected_code}, got {kind!r} {code}")
        return payload[4:]

    # -- queries -------------------------------------------------------------------------

    def simple(self, text, timeout=None):
        """Runs a simple Query; returns the messages up to ReadyForQuery."""
        self.send(query(text))
        return self.read_until_ready(timeout)


def rows(messages) -> list:
    """The DataRows in a message list, decoded as text."""
    return [parse_data_row(p) for k, p in messages if k == b"D"]


def errors(messages) -> list:
    """The ErrorResponses in a message list, as field dicts."""
    return [parse_fields(p) for k, p in messages if k == b"E"]


def kinds(messages) -> bytes:
    """The message type bytes, concatenated: easy to compare with an expected sequence."""
    return b"".join(k for k, _ in messages)
