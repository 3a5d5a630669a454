"""Security properties as tests (issue 7): secrets stay out of the logs, the admin endpoint
stays on loopback unless configured otherwise, and client TLS refuses old protocol versions.

Already covered elsewhere and not repeated here: upstream verify-full refusing a certificate
for another host name or an untrusted CA (test_tls), no secret on /config (test_admin), no
cleartext password at trace (test_lifecycle; this module adds md5 and SCRAM messages and the
config's own secret).
"""

import base64
import hashlib
import os
import signal
import shutil
import socket
import ssl
import tempfile
import unittest
import warnings

from harness import rawclient as rc
from harness.base import IntegrationCase, requires_proxy
from harness.certs import CertAuthority
from harness.proxy import SwitchyardProxy, render_config
from harness.util import free_port, socket_inodes, wait_until

CLEAR_ROLE, CLEAR_PASSWORD = "sec_clear", "Clear-pw-4f81c2"
MD5_ROLE, MD5_PASSWORD = "sec_md5", "Md5-pw-93be07"
SCRAM_ROLE, SCRAM_PASSWORD = "sec_scram", "Scram-pw-0d66aa"
WRONG_PASSWORD = "Wrong-pw-7c1e55"
# The proxy's own upstream role and password, read from a file named in the config.
PROXY_ROLE = "sec_proxy"
CONFIG_SECRETS = ("Config-secret-one-5a9d", "Config-secret-two-e2b4")


class RecordingConnection(rc.RawConnection):
    """A raw connection that keeps every byte it sent (to find its SCRAM messages)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent = b""

    def send(self, data: bytes):
        self.sent += data
        super().send(data)


def scram_secrets(sent: bytes):
    """The SCRAM values a client sent: client-first-bare, nonce, client-final, proof."""
    values = []
    for kind, payload in _messages(sent):
        if kind != b"p":
            continue
        text = payload.decode("latin-1")
        if text.startswith("SCRAM-SHA-256\0"):
            first = text[len("SCRAM-SHA-256\0") + 4:]  # after the Int32 length
            bare = first[len("n,,"):]
            values += [first, bare, bare.split("r=", 1)[1]]
        elif text.startswith("c=biws,"):
            values += [text, text.split(",p=", 1)[1], text.split("r=", 1)[1].split(",")[0]]
    return values


def _messages(data: bytes):
    """Typed messages in a client stream after its startup packet."""
    length = int.from_bytes(data[:4], "big")
    pos = length
    while pos + 5 <= len(data):
        kind, size = data[pos:pos + 1], int.from_bytes(data[pos + 1:pos + 5], "big")
        yield kind, data[pos + 5:pos + 1 + size]
        pos += 1 + size


class UpstreamPasswordProxy(SwitchyardProxy):
    """A proxy whose config names an upstream password file and one migration, so the proxy
    itself logs in upstream (catalog look-ups) with the config's secret."""

    def __init__(self, pg, password_file, **kwargs):
        super().__init__(pg.port, **kwargs)
        self.pg, self.password_file = pg, password_file

    def config_text(self):
        return render_config({
            "listen": {"address": f"{self.host}:{self.port}"},
            "upstream": {"address": self.upstream, "tls": "disable", "user": PROXY_ROLE,
                         "password_file": self.password_file, "database": self.pg.dbname},
            "log": {"level": self.log_level},
            "migration": [{"name": "sec-users", "table": "public.sec_users",
                           "old_column": "status", "new_column": "state", "writes": "both",
                           "reads": "old"}],
        })


@requires_proxy
class SecretsInLogsTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack(pg_kwargs={"hba": [
            f"host all {CLEAR_ROLE} 127.0.0.1/32 password",
            f"host all {MD5_ROLE} 127.0.0.1/32 md5",
        ]})
        cls.pg.create_role(CLEAR_ROLE, CLEAR_PASSWORD)
        cls.pg.create_role(MD5_ROLE, MD5_PASSWORD, encryption="md5")
        cls.pg.create_role(SCRAM_ROLE, SCRAM_PASSWORD)
        cls.pg.create_role(PROXY_ROLE, CONFIG_SECRETS[0])
        cls.pg.query("CREATE TABLE sec_users (id int PRIMARY KEY, status text, state text)")
        cls.pg.query(f"GRANT ALL ON sec_users TO {CLEAR_ROLE}, {MD5_ROLE}, {SCRAM_ROLE}")

    def proxy_with_config_secret(self, log_format):
        directory = tempfile.mkdtemp(prefix="switchyard-secret-")
        self.addCleanup(shutil.rmtree, directory, True)
        password_file = os.path.join(directory, "upstream-password")
        with open(password_file, "w") as f:
            f.write(CONFIG_SECRETS[0] + "\n")
        self.pg.query(f"ALTER ROLE {PROXY_ROLE} PASSWORD '{CONFIG_SECRETS[0]}'")
        proxy = UpstreamPasswordProxy(self.pg, password_file, log_level="trace",
                                      extra_args=["--log-format", log_format])
        self._test_proxies.append(proxy)
        self.addCleanup(proxy.close)
        proxy.start()
        return proxy, password_file

    def sessions(self, proxy):
        """Every authentication method, right and wrong, and statements the migration
        rewrites (so the proxy's own catalog connection logs in with the config secret)."""
        secrets = [CLEAR_PASSWORD, MD5_PASSWORD, SCRAM_PASSWORD, WRONG_PASSWORD]
        for role, password in ((CLEAR_ROLE, CLEAR_PASSWORD), (MD5_ROLE, MD5_PASSWORD),
                               (SCRAM_ROLE, SCRAM_PASSWORD)):
            with RecordingConnection(proxy.host, proxy.port) as conn:
                conn.start(role, self.pg.dbname, password=password)
                conn.simple("INSERT INTO sec_users (id, status) VALUES "
                            f"({len(secrets)}, 'x') ON CONFLICT DO NOTHING")
                self.assertEqual(rc.rows(conn.simple(
                    f"SELECT status FROM sec_users WHERE id = {len(secrets)}")), [["x"]])
                secrets += scram_secrets(conn.sent)
                if role == MD5_ROLE:
                    secrets.append(hashlib.md5((password + role).encode()).hexdigest())
            with RecordingConnection(proxy.host, proxy.port) as conn:
                with self.assertRaises(rc.ServerError):
                    conn.start(role, self.pg.dbname, password=WRONG_PASSWORD)
                secrets += scram_secrets(conn.sent)
        self.assertGreaterEqual(len(secrets), 10, "SCRAM messages were not seen")
        return secrets

    def assert_no_secret(self, log, secrets):
        for secret in secrets:
            for form, text in ((secret, log), (secret.encode().hex(), log.lower()),
                               (base64.b64encode(secret.encode()).decode(), log)):
                self.assertNotIn(form, text, f"a secret ({form[:10]}...) is in the log")

    def check_format(self, log_format):
        proxy, password_file = self.proxy_with_config_secret(log_format)
        secrets = self.sessions(proxy) + list(CONFIG_SECRETS)
        # A reload that changes the secret: the change is logged, its values are not.
        self.pg.query(f"ALTER ROLE {PROXY_ROLE} PASSWORD '{CONFIG_SECRETS[1]}'")
        with open(password_file, "w") as f:
            f.write(CONFIG_SECRETS[1] + "\n")
        proxy.signal(signal.SIGHUP)
        wait_until(lambda: "upstream.password" in proxy.log_text(), 15,
                   what="the reload to log its changes")
        self.assertEqual(proxy.stop(), 0)
        log = proxy.log_text()
        # The proxy's own login (catalog look-ups for the migration) used the config secret.
        self.assertIn(f"user={PROXY_ROLE} database=", self.pg.log_tail(1_000_000))
        self.assert_no_secret(log, secrets)

    def test_no_password_scram_message_or_config_secret_in_text_logs_at_trace(self):
        self.check_format("text")

    def test_no_password_scram_message_or_config_secret_in_json_logs_at_trace(self):
        self.check_format("json")


def listening_addresses(pid):
    """(address, port) of the TCP sockets in LISTEN state owned by process pid."""
    inodes = socket_inodes(pid)
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        with open(f"/proc/{pid}/net/{table}") as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state != "0A" or inode not in inodes:
                    continue
                address_hex, port_hex = local.split(":")
                raw = bytes.fromhex(address_hex)
                # /proc/net/tcp prints each 32-bit word in host (little-endian) order.
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                family = socket.AF_INET if width == 8 else socket.AF_INET6
                found.append((socket.inet_ntop(family, words), int(port_hex, 16)))
    return found


@requires_proxy
class AdminBindTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack()

    def test_admin_given_only_a_port_listens_on_loopback(self):
        admin_port = free_port()
        proxy = self.start_proxy(extra={"admin": {"address": f":{admin_port}"}})
        addresses = listening_addresses(proxy.process.pid)
        # (One listening socket per thread may share a port: compare sets.)
        self.assertEqual(set(addresses), {("127.0.0.1", proxy.port), ("127.0.0.1", admin_port)})

    def test_no_admin_section_means_no_admin_listener(self):
        proxy = self.start_proxy()
        self.assertEqual(set(listening_addresses(proxy.process.pid)), {("127.0.0.1", proxy.port)})

    def test_admin_address_is_taken_as_configured(self):
        # The loopback address written out: the configured host is used, not a wildcard.
        admin_port = free_port()
        proxy = self.start_proxy(extra={"admin": {"address": f"127.0.0.1:{admin_port}"}})
        self.assertIn(("127.0.0.1", admin_port), listening_addresses(proxy.process.pid))


@requires_proxy
class ClientTlsVersionTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        cls.ca_dir = tempfile.mkdtemp(prefix="switchyard-ca-")
        cls.addClassCleanup(shutil.rmtree, cls.ca_dir, True)
        cls.ca = CertAuthority(cls.ca_dir)
        cls.start_stack(proxy_kwargs={"client_tls": cls.ca.issue_server("switchyard")})

    def handshake(self, version):
        """Handshake pinned to one protocol version; returns the version used, or raises."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        # Level 0 lets this client offer TLS 1.0/1.1 at all (OpenSSL 3 refuses them by
        # default), so a failed handshake is the server's refusal.
        context.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1 and TLSv1_1 themselves
            context.minimum_version = version
            context.maximum_version = version
        with rc.RawConnection(self.host, self.port) as conn:
            conn.send(rc.ssl_request())
            self.assertEqual(conn.read_byte(), b"S")
            conn.sock = context.wrap_socket(conn.sock, server_hostname="localhost")
            return conn.sock.version()

    def test_tls_1_2_and_1_3_are_accepted(self):
        self.assertEqual(self.handshake(ssl.TLSVersion.TLSv1_2), "TLSv1.2")
        self.assertEqual(self.handshake(ssl.TLSVersion.TLSv1_3), "TLSv1.3")

    def test_tls_1_0_and_1_1_are_refused(self):
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            with self.subTest(version=version):
                with self.assertRaises(ssl.SSLError) as caught:
                    self.handshake(version)
                # The server's protocol_version alert, not this client refusing to offer it.
                self.assertEqual(caught.exception.reason, "TLSV1_ALERT_PROTOCOL_VERSION",
                                 caught.exception)
        self.assertTrue(self.proxy.alive())
        self.assert_endpoint_works()


if __name__ == "__main__":
    unittest.main()
