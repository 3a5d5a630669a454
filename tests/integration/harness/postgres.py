"""A throwaway PostgreSQL 15 cluster for one test class.

The cluster lives in a temporary directory, listens on a free port of 127.0.0.1 and on a unix
socket in that directory, and is always stopped: by the context manager, by the class cleanup
the tests register, and by an atexit hook as the last resort.
"""

import atexit
import os
import pwd
import shutil
import subprocess
import tempfile

import psycopg
from psycopg import sql

from .certs import CertAuthority
from .util import free_port, tail

PG_BIN = os.environ.get("SWITCHYARD_PG_BIN", "/usr/lib/postgresql/15/bin")
SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "sup3r-secret"
DATABASE = "app"
AUTH_METHODS = ("scram-sha-256", "md5", "trust", "password")

_live_clusters = set()
# One initdb per authentication method and process, copied for each cluster: a copy takes a
# quarter of an initdb's time, and a suite starts about eighty clusters.
_templates = {}


@atexit.register
def _stop_leftovers():
    for cluster in list(_live_clusters):
        cluster.stop()
    for template in _templates.values():
        shutil.rmtree(os.path.dirname(template), ignore_errors=True)


def _run_as_postgres() -> bool:
    # PostgreSQL refuses to run as root, so root delegates to the system user.
    return os.geteuid() == 0


class PostgresCluster:
    """initdb + pg_ctl around a temp directory.

    auth: the authentication method (initdb -A, for TCP and unix-socket connections), one of
    AUTH_METHODS; the superuser gets SUPERUSER_PASSWORD.
    ssl: when True, the server gets a certificate from `ca` (a new CA when None) issued for
    `ssl_names` (DNS names, IP addresses).
    hba: extra pg_hba.conf lines placed before the generated ones.
    settings: extra postgresql.conf settings.
    """

    def __init__(self, auth="scram-sha-256", ssl=False, ca=None,
                 ssl_names=(("localhost",), ("127.0.0.1",)), hba=(), settings=None):
        if auth not in AUTH_METHODS:
            raise ValueError(f"auth must be one of {AUTH_METHODS}")
        self.auth = auth
        self.ssl = ssl
        self.ca = ca
        self.ssl_names = ssl_names
        self.hba = list(hba)
        self.settings = dict(settings or {})
        self.host = "127.0.0.1"
        self.port = None
        self.directory = None
        self.datadir = None
        self.logfile = None
        self.user = SUPERUSER
        self.password = SUPERUSER_PASSWORD
        self.dbname = DATABASE
        self._started = False

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self.directory = tempfile.mkdtemp(prefix="switchyard-pg-")
        _live_clusters.add(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        self.datadir = os.path.join(self.directory, "data")
        self.logfile = os.path.join(self.directory, "postgres.log")
        self.port = free_port()
        if self.ssl and self.ca is None:
            self.ca = CertAuthority(os.path.join(self.directory, "ca"))
        if _run_as_postgres():
            pw = pwd.getpwnam("postgres")
            os.chown(self.directory, pw.pw_uid, pw.pw_gid)
        # cp -a keeps the owner (postgres) and the data directory's mode 0700.
        subprocess.run(["cp", "-a", self._template(), self.datadir], check=True, timeout=60)

        conf = {
            "listen_addresses": "127.0.0.1",
            "port": self.port,
            "unix_socket_directories": self.directory,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": 60,
            "shared_buffers": "32MB",
            "log_connections": "on",
            "log_disconnections": "on",
            "log_line_prefix": "%m [%p] %q%u@%d ",
        }
        if self.auth == "md5":
            # Since PostgreSQL 14 passwords are SCRAM-hashed by default, and md5 in pg_hba
            # then silently upgrades to SCRAM; storing md5 hashes makes md5 really md5.
            conf["password_encryption"] = "md5"
        if self.ssl:
            pair = self.ca.issue_server("postgres-server", common_name=self.ssl_names[0][0]
                                        if self.ssl_names[0] else "server",
                                        dns_names=self.ssl_names[0],
                                        ip_addresses=self.ssl_names[1])
            conf["ssl"] = "on"
            conf["ssl_cert_file"] = self._copy_into_datadir(pair.cert, "server.crt")
            conf["ssl_key_file"] = self._copy_into_datadir(pair.key, "server.key")
        conf.update(self.settings)
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write("\n# written by the Switchyard integration harness\n")
            for key, value in conf.items():
                f.write(f"{key} = '{value}'\n")
        if self.hba:
            hba_path = os.path.join(self.datadir, "pg_hba.conf")
            with open(hba_path) as f:
                generated = f.read()
            with open(hba_path, "w") as f:
                f.write("\n".join(self.hba) + "\n" + generated)

        self._pg_ctl_start()
        self._started = True
        with self.connect(dbname="postgres") as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
            if self.auth == "md5":
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(SUPERUSER), sql.Literal(self.password)))

    def _template(self):
        """A pristine data directory made by initdb for this cluster's auth and password."""
        key = (self.auth, self.password)
        if key in _templates:
            return _templates[key]
        parent = tempfile.mkdtemp(prefix="switchyard-pg-template-")
        try:
            pwfile = os.path.join(parent, "pwfile")
            with open(pwfile, "w") as f:
                f.write(self.password + "\n")
            if _run_as_postgres():
                pw = pwd.getpwnam("postgres")
                os.chown(parent, pw.pw_uid, pw.pw_gid)
                os.chown(pwfile, pw.pw_uid, pw.pw_gid)
            datadir = os.path.join(parent, "data")
            self._pg("initdb", "-D", datadir, "-U", SUPERUSER, f"--pwfile={pwfile}",
                     "-A", self.auth, "-E", "UTF8",
                     "--locale=C", "--no-sync", "--no-instructions")
            os.unlink(pwfile)
        except BaseException:
            shutil.rmtree(parent, ignore_errors=True)
            raise
        _templates[key] = datadir
        return datadir

    def _pg_ctl_start(self):
        # free_port() only found the port free: a test running beside this one can bind it
        # before the postmaster does. Then the start is tried again on another port (bounded).
        for attempt in range(3):
            logged = os.path.getsize(self.logfile) if os.path.exists(self.logfile) else 0
            try:
                self._pg("pg_ctl", "-D", self.datadir, "-l", self.logfile, "-w", "-t", "60",
                         "start")
                return
            except RuntimeError:
                with open(self.logfile, errors="replace") as f:
                    f.seek(logged)
                    taken = "Address already in use" in f.read()
                if not taken or attempt == 2:
                    raise
            self.port = free_port()
            with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
                f.write(f"port = '{self.port}'\n")

    def _copy_into_datadir(self, src, name):
        dst = os.path.join(self.datadir, name)
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o600)
        if _run_as_postgres():
            pw = pwd.getpwnam("postgres")
            os.chown(dst, pw.pw_uid, pw.pw_gid)
        return dst

    def stop(self):
        """Stops the server and removes its directory; safe to call more than once."""
        if self._started:
            self._started = False
            try:
                self._pg("pg_ctl", "-D", self.datadir, "-m", "immediate", "-w", "-t", "30",
                         "stop")
            except RuntimeError:
                pass
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
        _live_clusters.discard(self)

    def _pg(self, program, *args):
        kwargs = {}
        if _run_as_postgres():
            kwargs = {"user": "postgres", "group": "postgres", "extra_groups": []}
        env = dict(os.environ, LC_ALL="C", LANG="C")
        proc = subprocess.run([os.path.join(PG_BIN, program), *args], cwd=self.directory,
                              env=env, capture_output=True, text=True, timeout=90, **kwargs)
        if proc.returncode != 0:
            raise RuntimeError(f"{program} failed ({proc.returncode}):\n{proc.stdout}\n"
                               f"{proc.stderr}\n--- server log ---\n{self.log_tail()}")
        return proc.stdout

    # -- access ----------------------------------------------------------------------------

    def log_tail(self, max_bytes=8000) -> str:
        if not self.logfile:
            return "<no log>"
        return tail(self.logfile, max_bytes)

    def connect(self, dbname=None, autocommit=True, **kwargs):
        """An administrative psycopg connection over the unix socket, bypassing any proxy."""
        return psycopg.connect(host=self.directory, port=self.port, user=SUPERUSER,
                               password=self.password, dbname=dbname or self.dbname,
                               autocommit=autocommit, **kwargs)

    def query(self, text, params=None, dbname=None):
        """Runs one statement as the superuser and returns all rows (or None)."""
        with self.connect(dbname=dbname) as conn:
            cur = conn.execute(text, params)
            return cur.fetchall() if cur.description else None

    def create_role(self, name, password=None, encryption="scram-sha-256", superuser=False):
        """Creates a login role whose password is stored with `encryption` (md5 or scram)."""
        with self.connect() as conn:
            conn.execute(sql.SQL("SET password_encryption = {}").format(sql.Literal(encryption)))
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN {} PASSWORD {}").format(
                sql.Identifier(name), sql.SQL("SUPERUSER" if superuser else "NOSUPERUSER"),
                sql.Literal(password)))
            conn.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(
                sql.Identifier(name)))

    def conninfo(self, **overrides) -> str:
        """A TCP conninfo string for the superuser, as an application would use."""
        params = {"host": self.host, "port": self.port, "user": SUPERUSER,
                  "password": self.password, "dbname": self.dbname}
        params.update(overrides)
        return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items()
                                                 if v is not None})


def start_for_class(test_class, **kwargs) -> PostgresCluster:
    """Starts a cluster for a unittest class and registers its stop as a class cleanup."""
    cluster = PostgresCluster(**kwargs)
    cluster.start()
    test_class.addClassCleanup(cluster.stop)
    return cluster
