"""pgjdbc, the Java driver, through the rewrite across a migration's life (jdbc/JdbcApp.java).

pgjdbc has habits of its own: after five runs a PreparedStatement becomes a named statement
prepared on the server (prepareThreshold), whose results it then asks for in binary where it
can; a batch is many Binds and Executes under one Sync; RETURN_GENERATED_KEYS appends
`RETURNING *` to an INSERT. One JVM holds one connection, and the statements it prepared,
through every phase of a type change with to_new / to_old; a statement prepared on the server
before a flip must read the column the flags say after it (Switchyard prepares it again), and
`RETURNING *` and `SELECT *` must keep the columns the app knew. The rows are checked straight
in Postgres. Debian's libpostgresql-jdbc-java and a JDK (the source launcher runs the app
without a build step).
"""

import os
import select
import shutil
import subprocess
import unittest

from harness import postgres
from test_orm import OrmCase

JDBC_JAR = "/usr/share/java/postgresql.jar"
APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jdbc", "JdbcApp.java")


class JdbcApp:
    """The Java app as a child process, answering one line per command, every wait bounded."""

    def __init__(self, host, port, dbname, password, timeout=60.0):
        self.timeout = timeout
        self.process = subprocess.Popen(
            ["java", "-cp", JDBC_JAR, APP, f"jdbc:postgresql://{host}:{port}/{dbname}",
             postgres.SUPERUSER, password],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = self._line()
        if ready != "ready":
            raise AssertionError(f"JdbcApp did not start: {ready!r}\n{self._stderr()}")

    def ask(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._line()

    def _line(self) -> str:
        readable, _, _ = select.select([self.process.stdout], [], [], self.timeout)
        if not readable:
            raise TimeoutError(f"JdbcApp gave no answer within {self.timeout:.0f}s")
        return self.process.stdout.readline().strip()

    def _stderr(self) -> str:
        self.close()
        with self.process.stderr:
            return self.process.stderr.read()

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process.stdout.close()


@unittest.skipUnless(shutil.which("javac") and os.path.exists(JDBC_JAR),
                     "needs a JDK and libpostgresql-jdbc-java")
class JdbcTest(OrmCase):

    def test_prepared_statements_and_batches_through_every_phase(self):
        app = JdbcApp(self.host, self.port, self.pg.dbname, self.pg.password)
        self.addCleanup(app.close)
        self.addCleanup(app.process.stderr.close)
        # Prepared on the server under the flags before any flip, read again in every phase.
        early = self.make_differing_row("jdbc-early")
        self.assertEqual(app.ask(f"read {early}"), "ok inactive")
        for tag, writes, reads in self.phases("jdbc"):
            with self.subTest(writes=writes, reads=reads):
                status, _ = self.served(reads)
                self.assertEqual(app.ask(f"write {tag}"), "ok id name status created_at")
                self.assertEqual(app.ask(f"read {early}"), f"ok {status}")
                self.assertEqual(app.ask(f"read {tag}-1"), "ok active")
                self.assertEqual(app.ask(f"star {early}"),
                                 f"ok id name status created_at {status}")
                self.assert_customers(tag, writes, {f"{tag}-0": "inactive", f"{tag}-1": "active",
                                                    f"{tag}-2": "active", f"{tag}-3": "inactive"})
        # The path under test was taken: pgjdbc's named statements were prepared again.
        self.assertIn("event=reprepare ", self.proxy.log_text())
