"""Debian's PgBouncer between a command and the test's Postgres, for what only a pooler shows:
one server session serving client after client, so whatever session state a client leaves on
it is there for the next."""

import os
import pwd
import shutil
import subprocess
import tempfile

from harness.util import can_connect, free_port, tail, wait_until

PGBOUNCER = "/usr/sbin/pgbouncer"


def available() -> bool:
    return os.access(PGBOUNCER, os.X_OK)


class PgBouncer:
    """Transaction mode with one server connection: every transaction of every client runs on
    the same backend, and nothing is reset between clients."""

    def __init__(self, pg):
        self.pg = pg
        self.host = "127.0.0.1"
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="switchyard-pgbouncer-")
        self.process = None

    def start(self):
        ini = os.path.join(self.directory, "pgbouncer.ini")
        users = os.path.join(self.directory, "userlist.txt")
        with open(users, "w") as f:
            f.write(f'"{self.pg.user}" "{self.pg.password}"\n')
        with open(ini, "w") as f:
            f.write(f"""[databases]
* = host=127.0.0.1 port={self.pg.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {users}
pool_mode = transaction
default_pool_size = 1
server_reset_query =
logfile = {os.path.join(self.directory, "pgbouncer.log")}
""")
        kwargs = {}
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root, like Postgres.
            pw = pwd.getpwnam("postgres")
            for path in (self.directory, ini, users):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            kwargs = {"user": "postgres", "group": "postgres", "extra_groups": []}
        self.process = subprocess.Popen([PGBOUNCER, ini], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        cwd=self.directory, **kwargs)

        def ready():
            if self.process.poll() is not None:
                raise RuntimeError("pgbouncer exited:\n" + self.log_tail())
            return can_connect(self.host, self.port, timeout=0.2)

        wait_until(ready, 15, what="pgbouncer to accept connections")

    def log_tail(self):
        return tail(os.path.join(self.directory, "pgbouncer.log"))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)
