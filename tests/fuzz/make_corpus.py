#!/usr/bin/env python3
"""Writes the seed corpora in corpus/<target>/ from the tests' own material.

- fuzz_frontend: client streams built with the integration harness's message builders
  (tests/integration/harness/rawclient.py), as test_protocol_edges sends them.
- fuzz_backend: server conversations in the input layout fuzz_backend.cpp describes.
- fuzz_config: the config snippets of tests/unit/config/*.cpp, the DESIGN example, and
  docker/config/switchyard.toml.
- fuzz_rewrite: the SQL of tests/unit/rewrite/*.cpp, each under every migration set.

Files are named by the SHA-1 of their content, like libFuzzer's, so running this again
only adds what is new. Run it from anywhere: python3 tests/fuzz/make_corpus.py
"""
import hashlib
import pathlib
import re
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from harness import rawclient as rc  # noqa: E402

REWRITE_SETS = 6  # len(make_sets()) in fuzz_rewrite.cpp


def write(target: str, data: bytes) -> None:
    out = HERE / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    (out / hashlib.sha1(data).hexdigest()).write_bytes(data)


def c_literals(source: str):
    """Adjacent C string literals joined (plain and R"(...)"), escapes decoded."""
    token = re.compile(r'R"\((.*?)\)"|"((?:[^"\\\n]|\\.)*)"', re.S)
    joined, last_end = None, None
    for m in token.finditer(source):
        text = m.group(1) if m.group(1) is not None else decode_c(m.group(2))
        if joined is not None and source[last_end:m.start()].strip() == "":
            joined += text
        else:
            if joined is not None:
                yield joined
            joined = text
        last_end = m.end()
    if joined is not None:
        yield joined


def decode_c(s: str) -> str:
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape")


# -- frontend ---------------------------------------------------------------------------

def frontend_seeds():
    params = {"user": "alice", "database": "app", "application_name": "fuzz"}
    hello = rc.startup(params)
    normal = [
        rc.query("SELECT 1"),
        rc.query("SELECT 1; SELECT 2"),
        rc.parse("SELECT $1::int", "s1", (23,)) + rc.bind(("7",), "", "s1") +
        rc.describe(b"P") + rc.execute("", 0) + rc.sync(),
        rc.parse("SELECT generate_series(1, 10)") + rc.bind() + rc.execute("", 3) +
        rc.execute("", 3) + rc.sync(),
        rc.close(b"S", "s1") + rc.close(b"P", "p") + rc.flush() + rc.sync(),
        rc.query("COPY t FROM STDIN") + rc.copy_data(b"1\tx\n2\ty\n") + rc.copy_done(),
        rc.query("COPY t FROM STDIN") + rc.copy_data(b"1\n") + rc.message(b"f", b"boom\0"),
        rc.message(b"p", b"secret\0"),
        rc.message(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", 8) + b"n,,n=,r="),
        rc.message(b"F", struct.pack("!ih", 1234, 0) + struct.pack("!hh", 0, 0)),
        rc.terminate(),
    ]
    yield hello
    yield rc.startup(params, version=(3 << 16) | 1)
    yield rc.startup({"user": "u", "_pq_.x": "1", "options": "-c search_path=a"})
    yield rc.ssl_request() + hello + rc.query("SELECT 1")
    yield rc.gssenc_request() + rc.ssl_request() + hello
    yield rc.cancel_request(1234, 5678)
    yield rc.untyped(struct.pack("!i", 1 << 16) + b"\0")  # protocol 1.0
    yield struct.pack("!i", 10001) + b"\0" * 8  # startup length above the limit
    for m in normal:
        yield hello + m
    yield hello + b"".join(normal)
    yield hello + b"Q" + struct.pack("!I", 0x80000000)  # 2 GiB length header
    yield hello + b"Q" + struct.pack("!I", 3)  # length below 4


# -- backend ----------------------------------------------------------------------------

def be(kind: bytes, body: bytes = b"") -> bytes:
    return rc.message(kind, body)


def auth(code: int, rest: bytes = b"") -> bytes:
    return be(b"R", struct.pack("!i", code) + rest)


def notice_body(severity: str, code: str, message: str, extra=()) -> bytes:
    body = b"S" + rc._cstr(severity) + b"V" + rc._cstr(severity) + b"C" + rc._cstr(code)
    body += b"M" + rc._cstr(message)
    for field, value in extra:
        body += field + rc._cstr(value)
    return body + b"\0"


def row_description(names):
    body = struct.pack("!h", len(names))
    for n in names:
        body += rc._cstr(n) + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0)
    return be(b"T", body)


def data_row(values):
    body = struct.pack("!h", len(values))
    for v in values:
        body += struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
    return be(b"D", body)


def backend_seeds():
    ready = be(b"Z", b"I")
    startup_ok = (auth(0) + be(b"S", b"server_version\x0015.4\x00") +
                  be(b"S", b"client_encoding\0UTF8\0") + be(b"K", struct.pack("!ii", 42, 99)) +
                  ready)
    sasl = auth(10, b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0")
    starts = [
        b"\0" + startup_ok,
        b"\1N" + startup_ok,
        b"\1S" + startup_ok,
        b"\0" + auth(3) + startup_ok,
        b"\0" + auth(5, b"salt") + startup_ok,
        b"\0" + sasl + auth(11, b"r=abc,s=c2FsdA==,i=4096") + auth(12, b"v=abc=") + startup_ok,
        b"\0" + auth(10, b"SCRAM-SHA-256-PLUS\0\0") + startup_ok,
        b"\0" + be(b"v", struct.pack("!ii", 0x30000, 1) + b"_pq_.x\0") + startup_ok,
        b"\0" + be(b"N", notice_body("WARNING", "01000", "hi")) + startup_ok,
        b"\0" + be(b"E", notice_body("FATAL", "28P01", "password authentication failed")),
    ]
    # Normal phase: (direction, message) pairs; 1 = from the client, 0 = from the server.
    c, s = b"\1", b"\0"
    conversations = [
        c + rc.query("SELECT 1") + s + row_description(["a"]) + s + data_row([b"1"]) +
        s + be(b"C", b"SELECT 1\0") + s + ready,
        c + rc.parse("SELECT 1") + c + rc.bind() + c + rc.execute() + c + rc.sync() +
        s + be(b"1") + s + be(b"2") + s + data_row([None]) + s + be(b"C", b"SELECT 1\0") +
        s + ready,
        c + rc.query("BEGIN") + s + be(b"C", b"BEGIN\0") + s + be(b"Z", b"T") +
        c + rc.query("SELEC") + s + be(b"E", notice_body("ERROR", "42601", "syntax")) +
        s + be(b"Z", b"E") + c + rc.query("ROLLBACK") + s + be(b"C", b"ROLLBACK\0") + s + ready,
        c + rc.query("COPY t FROM STDIN") + s + be(b"G", b"\0" + struct.pack("!hh", 1, 0)) +
        c + rc.copy_data(b"1\n") + c + rc.copy_done() + s + be(b"C", b"COPY 1\0") + s + ready,
        c + rc.parse("COPY t FROM STDIN") + c + rc.bind() + c + rc.execute() + c + rc.sync() +
        s + be(b"1") + s + be(b"2") + s + be(b"G", b"\1" + struct.pack("!hh", 1, 1)) +
        c + rc.copy_data(b"x") + c + rc.copy_done() + s + be(b"C", b"COPY 1\0") + s + ready,
        c + rc.query("COPY t TO STDOUT") + s + be(b"H", b"\0" + struct.pack("!hh", 2, 0, )[:2] +
                                                  struct.pack("!hh", 0, 0)) +
        s + be(b"d", b"1\n") + s + be(b"c") + s + be(b"C", b"COPY 1\0") + s + ready,
        s + be(b"A", struct.pack("!i", 7) + b"chan\0payload\0") +
        s + be(b"S", b"TimeZone\0UTC\0") + s + be(b"N", notice_body("NOTICE", "00000", "n")),
        c + rc.parse("SELECT 1") + c + rc.flush() + s + be(b"1") + c + rc.describe(b"S") +
        c + rc.sync() + s + be(b"t", struct.pack("!h", 0)) + s + be(b"n") + s + ready,
    ]
    for start in starts:
        yield start
    for conv in conversations:
        yield starts[0] + conv
        yield starts[5] + conv


# -- config -----------------------------------------------------------------------------

def config_seeds():
    for path in sorted((ROOT / "tests" / "unit" / "config").glob("*.cpp")) + \
            [ROOT / "tests" / "unit" / "config" / "support.hpp"]:
        for text in c_literals(path.read_text()):
            if "[" in text and "=" in text:
                yield text.encode()
    design = (ROOT.parent / "shared" / "DESIGN.md")
    if design.exists():
        m = re.search(r"## 2\. Configuration \(TOML\)\s*```toml\n(.*?)```", design.read_text(), re.S)
        if m:
            yield m.group(1).encode()
    yield (ROOT / "docker" / "config" / "switchyard.toml").read_bytes()


# -- rewrite ----------------------------------------------------------------------------

SQL_START = re.compile(r"^\s*(/\*.*?\*/\s*)?(--[^\n]*\n\s*)*(with|select|insert|update|delete|copy|"
                       r"alter|drop|create|table|values|explain|prepare|begin|set|merge|"
                       r"truncate|\()", re.I | re.S)


def rewrite_seeds():
    statements = set()
    for path in sorted((ROOT / "tests" / "unit" / "rewrite").glob("*.cpp")):
        for text in c_literals(path.read_text()):
            if SQL_START.match(text) and "{value}" not in text:
                statements.add(text)
    for i, sql in enumerate(sorted(statements)):
        # Every statement under its "natural" set and one other, to keep the corpus small.
        for which in {i % REWRITE_SETS, (i + 2) % REWRITE_SETS}:
            yield bytes([which]) + sql.encode()
    copy_rows = [
        (b"COPY users (id, status) FROM STDIN", b"1\tactive\n2\t\\N\n"),
        (b"COPY users (id, status) FROM STDIN WITH (FORMAT csv, HEADER true)",
         b"id,status\n1,\"act\nive\"\n2,\n"),
        (b"COPY users FROM STDIN", b"1\tactive\tbob\t1\n"),
        (b"COPY users (id, status) FROM STDIN (FORMAT binary)",
         b"PGCOPY\n\xff\r\n\0" + bytes(8)
         + struct.pack(">hi4si6s", 2, 4, b"\0\0\0\1", 6, b"active")
         + struct.pack(">hi4si", 2, 4, b"\0\0\0\2", -1) + struct.pack(">h", -1)),
        # Set 5 widens "Old Col" from integer to bigint: each field is converted.
        (b'COPY "Mixed Case" (id, "Old Col") FROM STDIN (FORMAT binary)',
         b"PGCOPY\n\xff\r\n\0" + bytes(8)
         + struct.pack(">hiiii", 2, 4, 1, 4, -7) + struct.pack(">hiii", 2, 4, 2, -1)
         + struct.pack(">h", -1)),
    ]
    for which in range(REWRITE_SETS):
        for sql, rows in copy_rows:
            yield bytes([which]) + sql + b"\0" + rows


def main():
    counts = {}
    for target, seeds in (("fuzz_frontend", frontend_seeds()), ("fuzz_backend", backend_seeds()),
                          ("fuzz_config", config_seeds()), ("fuzz_rewrite", rewrite_seeds())):
        n = 0
        for data in seeds:
            write(target, data)
            n += 1
        counts[target] = n
    print(" ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
