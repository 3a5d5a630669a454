"""A prepared statement whose result type changes under it (DESIGN §4), on the wire.

An int column moves to a bigint one. Under reads = "new" what reaches the client is cast back
to int4 while the old column's type is known: from the catalog, from the config's old_type, or,
once the old column is dropped (step 7) while the proxy runs, from the rules built before the
drop; so a flip, or the drop, changes no result type. A config that names another old_type
(here `bigint`: serve the new column's type from now on) does change it: `n + 1` served from
the bigint column is a bigint. When Switchyard prepares such a statement again for the new
config generation it has the server describe it as it was and as it is, and a Bind that asks
for a changed column in binary gets the error Postgres gives when a column changes type under a
prepared statement (0A000, routine RevalidateCachedQuery), not 8-byte values where the client
expects 4. Text results pass: their text is the same.
"""

import hashlib
import http.client
import re
import struct

from harness import rawclient as wire
from harness.base import requires_proxy
from harness.util import free_port, line_of
from test_rewrite import MigrationProxy, RewriteCase

WIDEN = {"name": "widen-n", "table": "public.widen", "old_column": "n", "new_column": "n_big",
         "writes": "both", "reads": "old"}
SERVED = dict(WIDEN, writes="new", reads="new")
NEXT = "SELECT n + 1 AS next FROM widen WHERE id = $1"


@requires_proxy
class ResultTypesTest(RewriteCase):

    MIGRATIONS = [WIDEN]

    @classmethod
    def prepare_database(cls):
        cls.pg.query("CREATE TABLE widen (id int PRIMARY KEY, n int, n_big bigint)")

    @classmethod
    def start_migration_proxy(cls, migrations):
        cls.admin_port = free_port()
        p = MigrationProxy(cls.pg, migrations,
                           extra={"admin": {"address": f"127.0.0.1:{cls.admin_port}"}})
        p.start()
        return p

    def refusals(self) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        try:
            conn.request("GET", "/metrics")
            body = conn.getresponse().read().decode()
        finally:
            conn.close()
        found = re.search(r"^switchyard_result_type_refusals_total (\d+)", body, re.MULTILINE)
        self.assertIsNotNone(found, "the counter is exported")
        return int(found.group(1))

    def setUp(self):
        super().setUp()
        self.reset_table()

    def reset_table(self):
        self.direct("DROP TABLE IF EXISTS widen")
        self.direct("CREATE TABLE widen (id int PRIMARY KEY, n int, n_big bigint)")
        self.direct("INSERT INTO widen VALUES (1, 7, 70), (2, 8, 80)")  # n_big: where reads go
        self.proxy.reload([SERVED])

    def prepare_then_drop(self, conn, name="next"):
        """Prepares NEXT (an int4 result), then drops the old column and reloads with the new
        column's type as old_type: the result type changes under the statement."""
        conn.send(wire.parse(NEXT, name) + wire.describe(b"S", name) + wire.sync())
        described = conn.read_until_ready()
        self.assertEqual(wire.kinds(described), b"1tTZ")
        self.assertEqual(wire.parse_row_description_types(
            next(p for k, p in described if k == b"T")), [23])
        self.direct("ALTER TABLE widen DROP COLUMN n")
        self.proxy.reload([dict(SERVED, old_type="bigint")])

    def test_a_binary_bind_of_a_changed_column_gets_postgres_error_until_described(self):
        with self.raw_session() as conn:
            self.prepare_then_drop(conn)
            refusals_before = self.refusals()
            conn.send(wire.bind(["1"], statement="next", result_formats=(1,)) + wire.execute() +
                      wire.sync())
            refused = conn.read_until_ready()
            self.assertEqual(wire.kinds(refused), b"EZ")
            err = wire.errors(refused)[0]
            self.assertEqual((err["C"], err["M"], err["R"]),
                             ("0A000", "cached plan must not change result type",
                              "RevalidateCachedQuery"))
            self.assertIn('statement "next"', err["D"])
            self.assertNotIn("W", err, "the DO block that raised it is not the reader's business")
            self.assertIn("event=result_type_changed", self.proxy.log_text())
            self.assertEqual(self.refusals() - refusals_before, 1)

            # Refused again, as Postgres does, until the client learns the new types.
            conn.send(wire.bind(["1"], statement="next", result_formats=(1,)) + wire.execute() +
                      wire.sync())
            self.assertEqual(wire.kinds(conn.read_until_ready()), b"EZ")
            conn.send(wire.describe(b"S", "next") + wire.bind(["1"], statement="next",
                                                              result_formats=(1,)) +
                      wire.execute() + wire.sync())
            served = conn.read_until_ready()
            self.assertEqual(wire.kinds(served), b"tT2DCZ")
            payload = next(p for k, p in served if k == b"D")
            self.assertEqual(struct.unpack("!hiq", payload), (1, 8, 71),
                             "a bigint, from n_big, as the Describe said")

    def test_a_result_whose_width_changes_is_refused_in_any_format_until_described(self):
        # `*` leaves the new column out while a migration runs, and lists it once the migration
        # is removed: a client that cached two columns would get rows of three (or, the other
        # way, of two where it was told three), text or binary alike.
        star = "SELECT * FROM widen WHERE id = $1"
        with self.raw_session() as conn:
            conn.send(wire.parse(star, "star") + wire.describe(b"S", "star") + wire.sync())
            described = conn.read_until_ready()
            self.assertEqual(wire.parse_row_description_types(
                next(p for k, p in described if k == b"T")), [23, 23])
            self.proxy.reload([])
            try:
                conn.send(wire.bind(["1"], statement="star") + wire.execute() + wire.sync())
                refused = conn.read_until_ready()
                self.assertEqual(wire.kinds(refused), b"EZ")
                self.assertEqual(wire.errors(refused)[0]["M"],
                                 "cached plan must not change result type")
                self.assertIn("another number of columns", wire.errors(refused)[0]["D"])
                conn.send(wire.describe(b"S", "star") + wire.bind(["1"], statement="star") +
                          wire.execute() + wire.sync())
                self.assertEqual(wire.kinds(conn.read_until_ready()), b"tT2DCZ")
            finally:
                self.proxy.reload([SERVED])

    UPDATE = "UPDATE widen SET n = $1 WHERE id = $2"

    def prepare_update_then_flip(self, conn):
        """Prepares UPDATE under writes = new (it writes n_big alone), then flips to writes =
        both: the statement the server has is stale and must be prepared again."""
        conn.send(wire.parse(self.UPDATE, "upd") + wire.sync())
        self.assertEqual(wire.kinds(conn.read_until_ready()), b"1Z")
        self.proxy.reload([WIDEN])

    def test_a_stale_statement_bound_after_an_error_before_sync_is_skipped_not_hung(self):
        # The server skips every message after an error until Sync: a re-prepare then waited
        # for answers that come only after the Sync it held back, and the session hung.
        with self.raw_session() as conn:
            self.prepare_update_then_flip(conn)
            conn.send(wire.parse("SELECT 1/0") + wire.bind() + wire.execute() + wire.flush())
            self.assertEqual([k for k, _ in (conn.read_message(), conn.read_message())],
                             [b"1", b"E"])
            conn.send(wire.bind(["5", "1"], statement="upd") + wire.execute() + wire.sync())
            self.assertEqual(wire.kinds(conn.read_until_ready(timeout=5)), b"Z")
            self.assertEqual(self.direct("SELECT n, n_big FROM widen WHERE id = 1"), [(7, 70)])
            # Prepared again at its next Bind, for the flags of now.
            conn.send(wire.bind(["6", "1"], statement="upd") + wire.execute() + wire.sync())
            self.assertEqual(wire.kinds(conn.read_until_ready()), b"2CZ")
        self.assertEqual(self.direct("SELECT n, n_big FROM widen WHERE id = 1"), [(6, 6)])

    def test_a_stale_statement_bound_in_a_failed_transaction_survives_it(self):
        # Its re-prepare there closed the statement and then failed to parse it again (25P02):
        # the statement was gone for good (26000 on every later Bind).
        with self.raw_session() as conn:
            self.prepare_update_then_flip(conn)
            conn.send(wire.query("BEGIN"))
            conn.read_until_ready()
            conn.send(wire.query("SELECT 1/0"))
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "22012")
            conn.send(wire.bind(["5", "1"], statement="upd") + wire.execute() + wire.sync())
            refused = conn.read_until_ready()
            self.assertEqual(wire.errors(refused)[0]["C"], "25P02")
            conn.send(wire.query("ROLLBACK"))
            conn.read_until_ready()
            conn.send(wire.bind(["6", "1"], statement="upd") + wire.execute() + wire.sync())
            self.assertEqual(wire.kinds(conn.read_until_ready()), b"2CZ")
        self.assertEqual(self.direct("SELECT n, n_big FROM widen WHERE id = 1"), [(6, 6)])

    def test_the_old_column_back_serves_the_types_the_client_was_told(self):
        # Told int4 at prepare; refused while reads give a bigint; once the old column (and so
        # its type) is back the result is cast to int4 again, which is what the client decodes
        # by: served.
        with self.raw_session() as conn:
            self.prepare_then_drop(conn)
            binary_bind = (wire.bind(["1"], statement="next", result_formats=(1,)) +
                           wire.execute() + wire.sync())
            conn.send(binary_bind)
            self.assertEqual(wire.kinds(conn.read_until_ready()), b"EZ")
            self.direct("ALTER TABLE widen ADD COLUMN n int")
            self.proxy.reload([SERVED])
            conn.send(binary_bind)
            served = conn.read_until_ready()
            self.assertEqual(wire.kinds(served), b"2DCZ")
            payload = next(p for k, p in served if k == b"D")
            self.assertEqual(struct.unpack("!hii", payload), (1, 4, 71),
                             "an int4, n_big cast back")

    def test_a_text_bind_goes_through_with_the_new_column(self):
        with self.raw_session() as conn:
            self.prepare_then_drop(conn)
            conn.send(wire.bind(["2"], statement="next") + wire.execute() + wire.sync())
            self.assertEqual(wire.rows(conn.read_until_ready()), [["81"]])

    def test_an_error_before_the_bind_leaves_the_statement_to_prepare_again(self):
        # The server skips everything after an error up to Sync, Switchyard's re-prepare of
        # "next" too: the statement must then be prepared again at its next use, not served
        # with the text of before the flip. The same when a Describe brought the re-prepare.
        for first_use in (wire.bind(["1"], statement="next") + wire.execute(),
                          wire.describe(b"S", "next")):
            with self.subTest(first_use=first_use[:1]), self.raw_session() as conn:
                self.reset_table()
                self.prepare_then_drop(conn)
                conn.send(wire.parse("SELECT 1 / (random() * 0)::int") + wire.bind() +
                          wire.execute() + first_use + wire.sync())
                failed = conn.read_until_ready()
                self.assertEqual(wire.kinds(failed), b"12EZ")
                self.assertEqual(wire.errors(failed)[0]["C"], "22012")
                conn.send(wire.bind(["1"], statement="next") + wire.execute() + wire.sync())
                self.assertEqual(wire.rows(conn.read_until_ready()), [["71"]], "from n_big")

    def test_a_describe_of_the_portal_after_the_bind_and_a_pipeline_keep_their_answers(self):
        # The client's own descriptions are paired with its Describes, never hidden, also when
        # a re-prepare's hidden Describes come between them in one pipeline.
        with self.raw_session() as conn:
            self.prepare_then_drop(conn)
            conn.send(wire.parse("SELECT 'a'::text AS letter") + wire.describe(b"S") +
                      wire.bind() + wire.describe(b"P") + wire.execute() +
                      wire.bind(["2"], statement="next") + wire.describe(b"P") +
                      wire.execute() + wire.sync())
            answers = conn.read_until_ready()
            self.assertEqual(wire.kinds(answers), b"1tT2TDC2TDCZ")
            self.assertEqual(wire.rows(answers), [["a"], ["81"]])
            descriptions = [wire.parse_row_description(p) for k, p in answers if k == b"T"]
            self.assertEqual(descriptions, [["letter"], ["letter"], ["next"]])

    def served_int4_in_binary(self, conn, *message):
        """Binds prepared NEXT asking for binary and checks it gets the int4 it was told."""
        conn.send(wire.bind(["1"], statement="next", result_formats=(1,)) + wire.execute() +
                  wire.sync())
        served = conn.read_until_ready()
        self.assertEqual(wire.kinds(served), b"2DCZ")
        payload = next(p for k, p in served if k == b"D")
        self.assertEqual(struct.unpack("!hii", payload), (1, 4, 71), *message)

    def test_old_type_keeps_the_type_the_client_was_told_after_the_drop(self):
        # Named in the config before the drop, the old column's type outlives it: nothing
        # changes type under the client, in binary or text.
        keep = dict(SERVED, old_type="integer")
        with self.raw_session() as conn:
            self.proxy.reload([keep])
            conn.send(wire.parse(NEXT, "next") + wire.describe(b"S", "next") + wire.sync())
            self.assertEqual(wire.kinds(conn.read_until_ready()), b"1tTZ")
            self.direct("ALTER TABLE widen DROP COLUMN n")
            self.proxy.reload([keep])
            self.served_int4_in_binary(conn)

    def test_a_drop_while_the_proxy_runs_keeps_the_type_the_client_was_told(self):
        # No old_type: the reload after the drop (or the catalog check that finds it) keeps the
        # type from the rules built before, and says to name it for the next start.
        with self.raw_session() as conn:
            conn.send(wire.parse(NEXT, "next") + wire.describe(b"S", "next") + wire.sync())
            self.assertEqual(wire.kinds(conn.read_until_ready()), b"1tTZ")
            self.direct("ALTER TABLE widen DROP COLUMN n")
            self.proxy.reload([SERVED])
            self.served_int4_in_binary(conn, "an int4, as told")
        self.assertIn("n is gone; reads of it served from n_big (bigint) keep its type, integer, "
                      "remembered from before the drop, only while this process runs: add "
                      'old_type = \\"integer\\"', self.proxy.log_text())
        with self.connect() as conn:  # a new session is told the same
            cur = conn.execute("SELECT n + 1 AS next FROM widen WHERE id = 1")
            self.assertEqual((cur.description[0].type_code, cur.fetchone()), (23, (71,)))

    def test_old_type_spelled_otherwise_than_the_catalog_is_refused_while_the_column_exists(self):
        # Compared as text with the catalog's spelling (and so with the new column's type).
        with self.assertRaises(AssertionError) as refused:
            self.proxy.reload([dict(SERVED, old_type="int4")])
        self.assertIn('old_type = \\"int4\\" is not the type of n as the catalog spells it: '
                      'write old_type = \\"integer\\"', str(refused.exception))
        line = line_of(self.proxy.config_path, 'old_type = "int4"')
        self.assertIn(f"{self.proxy.config_path}:{line}:12: migration[0].old_type: ",
                      str(refused.exception))
        with self.assertRaises(AssertionError) as refused:
            self.proxy.reload([dict(SERVED, old_type="integer); DROP TABLE widen; --")])
        self.assertIn("is not a type name", str(refused.exception))
        line = line_of(self.proxy.config_path, "old_type = ")
        self.assertIn(f"{self.proxy.config_path}:{line}:12: migration[0].old_type: ",
                      str(refused.exception))
        self.assertEqual(self.direct("SELECT count(*) FROM widen"), [(2,)])

    def test_the_load_under_writes_new_says_to_name_old_type_before_the_drop(self):
        # setUp loaded SERVED (writes = new, old_type unset) over integer -> bigint.
        self.assertIn('before dropping n, add old_type = \\"integer\\" to the migration',
                      self.proxy.log_text())
        self.proxy.reload([dict(SERVED, old_type="integer")])
        # The generations that loaded this file: a reload of the previous file (the file watch
        # and setUp's SIGHUP both read it) may still log its warning after the call returns.
        digest = hashlib.sha256(self.proxy.config_text().encode()).hexdigest()[:12]
        log = self.proxy.log_text().splitlines()
        loaded = {re.search(r"generation=(\d+)", line).group(1) for line in log
                  if "event=config_reloaded" in line and f"file_sha256={digest}" in line}
        self.assertTrue(loaded)
        self.assertEqual([line for line in log if "add old_type" in line and
                          re.search(r"generation=(\d+)", line).group(1) in loaded], [])


POSINT = {"name": "posint", "table": "public.x8", "old_column": "o", "new_column": "n",
          "writes": "both", "reads": "new"}
SHORTV = {"name": "shortv", "table": "public.x9", "old_column": "o", "new_column": "n",
          "writes": "both", "reads": "new"}


@requires_proxy
class UserTypeNamesTest(RewriteCase):
    """The old column's type is a domain in public, and schema s3 holds other types of the same
    names: the casts the proxy writes into a session's SQL name public's, whatever its
    search_path."""

    MIGRATIONS = [POSINT, SHORTV]

    @classmethod
    def prepare_database(cls):
        cls.pg.query("CREATE DOMAIN posint AS integer CHECK (VALUE > 0)")
        cls.pg.query("CREATE DOMAIN shortv AS varchar(5) CHECK (VALUE <> 'bad')")
        cls.pg.query("CREATE TABLE x8 (id int PRIMARY KEY, o posint, n bigint)")
        cls.pg.query("CREATE TABLE x9 (id int PRIMARY KEY, o shortv, n text)")
        cls.pg.query("INSERT INTO x8 SELECT g, g, g FROM generate_series(1, 3) g")
        cls.pg.query("CREATE SCHEMA s3")
        cls.pg.query("CREATE DOMAIN s3.posint AS numeric(6, 1)")
        cls.pg.query("CREATE DOMAIN s3.shortv AS varchar(2)")
        cls.pg.query("CREATE SCHEMA s2")

    def setUp(self):
        super().setUp()
        self.pg.query("DELETE FROM x9")

    def test_reads_and_writes_keep_the_column_types_under_another_search_path(self):
        with self.connect(options="-c search_path=s3,public") as conn:
            self.assertEqual(conn.execute("SELECT id, o::text FROM x8 WHERE o > 1 ORDER BY id")
                             .fetchall(), [(2, "2"), (3, "3")])  # not s3.posint's 2.0
            conn.execute("INSERT INTO x9 (id, o) VALUES (1, 'abcd')")
            with conn.cursor().copy("COPY x9 (id, o) FROM STDIN") as copy:
                copy.write(b"2\tabcde\n")
        with self.connect(options="-c search_path=s2") as conn:
            self.assertEqual(conn.execute("SELECT o FROM public.x8 WHERE id = 1").fetchall(),
                             [(1,)])
            conn.execute("INSERT INTO public.x9 (id, o) VALUES (3, 'xyz')")
        self.assertEqual(self.pg.query("SELECT id, o, n FROM x9 ORDER BY id"),
                         [(1, "abcd", "abcd"), (2, "abcde", "abcde"), (3, "xyz", "xyz")])

    def test_old_type_may_name_the_schema(self):
        self.proxy.reload([dict(POSINT, old_type="public.posint"), SHORTV])
        self.proxy.reload([dict(POSINT, old_type="posint"), SHORTV])
        with self.assertRaises(AssertionError) as refused:
            self.proxy.reload([dict(POSINT, old_type="s3.posint"), SHORTV])
        self.assertIn('write old_type = \\"public.posint\\"', str(refused.exception))
