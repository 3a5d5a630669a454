"""Authentication is passed through: trust, cleartext password, md5 and SCRAM-SHA-256.

One cluster holds a role per method (pg_hba.conf lines by user name), so each method is
checked with psql, the libpq test client and the raw client, which also sees exactly which
authentication request reached the client.
"""

import os
import subprocess
import unittest

from harness import rawclient as rc
from harness.base import IntegrationCase, libpq_client
from harness.postgres import PG_BIN

ROLES = {
    # role: (pg_hba method, password storage, authentication request the client must see)
    "u_trust": ("trust", "scram-sha-256", rc.AUTH_OK),
    "u_password": ("password", "scram-sha-256", rc.AUTH_CLEARTEXT),
    "u_md5": ("md5", "md5", rc.AUTH_MD5),
    "u_scram": ("scram-sha-256", "scram-sha-256", (rc.AUTH_SASL, ["SCRAM-SHA-256"])),
}
PASSWORD = "p@ss word'\"42"


def psql(conninfo, sql, password):
    env = dict(os.environ, PGPASSWORD=password, PGCONNECT_TIMEOUT="10")
    env.pop("PGSERVICE", None)
    return subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-A", "-t", "-v",
                           "ON_ERROR_STOP=1", "-c", sql, conninfo],
                          capture_output=True, text=True, timeout=60, env=env)


class AuthTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        hba = [f"host all {role} 127.0.0.1/32 {method}" for role, (method, _, _)
               in ROLES.items()]
        cls.start_stack(pg_kwargs={"hba": hba})
        for role, (_, storage, _) in ROLES.items():
            cls.pg.create_role(role, PASSWORD, encryption=storage)
        cls.pg.query("CREATE TABLE auth_log (who text)")
        cls.pg.query("GRANT INSERT ON auth_log TO PUBLIC")

    def role_conninfo(self, role, **overrides):
        return self.conninfo(user=role, password=None, **overrides)

    def check_method(self, role):
        method, _, expected_request = ROLES[role]
        with self.subTest(client="raw"):
            with self.raw() as conn:
                seen, _ = conn.start(role, self.pg.dbname, password=PASSWORD)
                self.assertEqual(seen[0], expected_request)
                self.assertEqual(seen[-1], rc.AUTH_OK)
                self.assertEqual(rc.rows(conn.simple("SELECT current_user")), [[role]])
        with self.subTest(client="psql"):
            proc = psql(self.role_conninfo(role), "SELECT current_user, 20 + 22", PASSWORD)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(proc.stdout.strip(), f"{role}|42")
        if method != "trust":
            with self.subTest(client="psql wrong password"):
                proc = psql(self.role_conninfo(role), "SELECT 1", "wrong")
                self.assertEqual(proc.returncode, 2, proc.stdout)
                self.assertIn(f'password authentication failed for user "{role}"', proc.stderr)
            with self.subTest(client="raw wrong password"):
                with self.raw() as conn:
                    with self.assertRaises(rc.ServerError) as caught:
                        conn.start(role, self.pg.dbname, password="wrong")
                    self.assertEqual(caught.exception.sqlstate, "28P01")
        if libpq_client():
            with self.subTest(client="libpq_client"):
                env = dict(os.environ, PGPASSWORD=PASSWORD)
                proc = subprocess.run([libpq_client(), self.role_conninfo(role)],
                                      capture_output=True, text=True, timeout=120, env=env)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        with self.connect(user=role, password=PASSWORD) as conn:
            conn.execute("INSERT INTO auth_log VALUES (current_user)")
        self.assertIn((role,), self.pg.query("SELECT who FROM auth_log"))

    def test_trust(self):
        self.check_method("u_trust")

    def test_cleartext_password(self):
        self.check_method("u_password")

    def test_md5(self):
        self.check_method("u_md5")

    def test_scram_sha_256(self):
        self.check_method("u_scram")

    def test_unknown_role_is_rejected_by_the_server(self):
        with self.raw() as conn:
            with self.assertRaises(rc.ServerError) as caught:
                conn.start("nobody_here", self.pg.dbname, password=PASSWORD)
            self.assertEqual(caught.exception.sqlstate, "28P01")
        self.assert_endpoint_works()


if __name__ == "__main__":
    unittest.main()
