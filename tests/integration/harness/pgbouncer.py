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


def launch(directory, ini, users, host, port, wrapper=()):
    """Starts PgBouncer on `ini` (as postgres when root: it refuses root, like Postgres) and
    waits until it accepts connections on host:port; the bench's PgBouncer starts here too."""
    kwargs = {}
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for path in (directory, ini, users):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        kwargs = {"user": "postgres", "group": "postgres", "extra_groups": []}
    process = subprocess.Popen([*wrapper, PGBOUNCER, ini], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               cwd=directory, **kwargs)

    def ready():
        if process.poll() is not None:
            log = tail(os.path.join(directory, "pgbouncer.log"))
            raise RuntimeError("pgbouncer exited:\n" + log)
        return can_connect(host, port, timeout=0.2)

    wait_until(ready, 15, what="pgbouncer to accept connections")
    return process


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
        self.process = launch(self.directory, ini, users, self.host, self.port)

    def log_tail(self):
        return tail(os.path.join(self.directory, "pgbouncer.log"))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.directory, ignore_errors=True)
