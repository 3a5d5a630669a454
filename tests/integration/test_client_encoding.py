"""Client encodings and the settings that decide how the server reads a text, checked in the DATA.

The rewrite reads every text as UTF-8 with standard_conforming_strings on; the server converts a
text from the session's client_encoding first. Where the two may read a text otherwise the
proxy refuses it (0A000) instead of forwarding it unrewritten or rewritten wrongly; where they
read alike (UTF-8, or a LATIN1 text with the migration's config all ASCII) it is rewritten.
"""

import unittest

from psycopg import errors

from harness.base import requires_proxy
from harness import rawclient as wire
from test_rewrite import RENAME, TYPE_CHANGE, RewriteCase, migration

# The type change's transform holds a non-ASCII literal, which a LATIN1 text cannot take as
# UTF-8 bytes.
TO_NEW = "CASE {value} WHEN 'active' THEN 1 WHEN 'inactive' THEN 0 WHEN 'résilié' THEN 2 END"
TO_OLD = "CASE {value} WHEN 1 THEN 'active' WHEN 0 THEN 'inactive' WHEN 2 THEN 'résilié' END"


@requires_proxy
class ClientEncodingTest(RewriteCase):
    MIGRATIONS = [migration(RENAME), migration(TYPE_CHANGE, to_new=TO_NEW, to_old=TO_OLD)]

    def run_bytes(self, conn, text: bytes):
        """Sends the bytes a client in the session's encoding sends (simple protocol)."""
        return conn.execute(text, prepare=False)

    def test_sjis_escape_string_write_is_refused_and_writes_nothing(self):
        # SJIS '表' is 95 5C: E'表' is a closed string to the server, an escaped quote to a
        # UTF-8 reader, which forwarded it unrewritten (status written, state NULL).
        with self.connect(client_encoding="SJIS") as conn:
            with self.assertRaises(errors.FeatureNotSupported) as raised:
                self.run_bytes(conn, "INSERT INTO users (id, status) VALUES (1, E'表')"
                               .encode("shift_jis"))
            self.assert_rejected(raised, RENAME)
            self.assertIn("client_encoding UTF8", str(raised.exception))
            # The same trick splicing N into the server's comment: refused too.
            with self.assertRaises(errors.FeatureNotSupported):
                self.run_bytes(conn, "UPDATE users SET status = E'表' || '' WHERE id = 2 -- '"
                               .encode("shift_jis"))
            # ASCII texts read alike: rewritten.
            conn.execute("INSERT INTO users (id, status) VALUES (3, 'active')")
        self.assertEqual(self.rows("users"), [(3, "active", "active")])

    def test_sjis_copy_is_refused_before_its_data(self):
        # 表 (95 5C) then ポ (83 7C): the proxy split the row otherwise than the server.
        data = "1|表|ポ\n".encode("shift_jis")
        with self.connect(client_encoding="SJIS") as conn:
            with self.assertRaises(errors.FeatureNotSupported) as raised:
                with conn.cursor().copy(
                        "COPY users (id, name, status) FROM STDIN (DELIMITER '|')") as copy:
                    copy.write(data)
            self.assert_rejected(raised, RENAME)
        self.assertEqual(self.rows("users"), [])

    def test_copy_with_an_encoding_option_that_embeds_ascii_is_staged(self):
        # The server splits the rows after converting them: both columns get ポ.
        data = "1|表|ポ\n".encode("shift_jis")
        with self.connect() as conn:
            with conn.cursor().copy("COPY users (id, name, status) FROM STDIN "
                                    "(DELIMITER '|', ENCODING 'SJIS')") as copy:
                copy.write(data)
        self.assertEqual(self.rows("users", "id, name, status, state"), [(1, "表", "ポ", "ポ")])

    def test_latin1_writes_with_ascii_config_are_rewritten(self):
        with self.connect(client_encoding="LATIN1") as conn:
            self.run_bytes(conn, "INSERT INTO users (id, status) VALUES (1, 'café')"
                           .encode("latin1"))
            conn.execute("INSERT INTO users (id, status) VALUES (%s, %s)", (2, "résilié"))
        self.assertEqual(self.rows("users"), [(1, "café", "café"), (2, "résilié", "résilié")])

    def test_latin1_write_spliced_with_a_non_ascii_transform_is_refused(self):
        # The transform's 'résilié' went in as UTF-8 bytes: the CASE never matched, N was NULL.
        with self.connect(client_encoding="LATIN1") as conn:
            with self.assertRaises(errors.FeatureNotSupported) as raised:
                self.run_bytes(conn, "INSERT INTO accounts (id, status) VALUES (1, 'résilié')"
                               .encode("latin1"))
            self.assert_rejected(raised, TYPE_CHANGE)
            with self.assertRaises(errors.FeatureNotSupported):
                conn.execute("INSERT INTO accounts (id, status) VALUES (%s, %s)", (2, "résilié"))
        with self.connect() as conn:
            conn.execute("INSERT INTO accounts (id, status) VALUES (3, 'résilié')")
        self.assertEqual(self.rows("accounts"), [(3, "résilié", 2)])

    def test_latin1_escaped_high_byte_is_refused_or_rewritten(self):
        # E'\é' is not valid UTF-8 to the parser: forwarded unrewritten, the server ran it.
        # Refused now, or (its literal shape's rewrite reused, the literal copied as sent)
        # rewritten: never one column alone.
        self.direct("INSERT INTO users (id, status, state) VALUES (1, 'a', 'a')")
        with self.connect(client_encoding="LATIN1") as conn:
            try:
                self.run_bytes(conn, "UPDATE users SET status = E'\\é' || status WHERE id = 1"
                               .encode("latin1"))
                self.run_bytes(conn, "INSERT INTO users (status, id) VALUES (E'\\é', 2)"
                               .encode("latin1"))
            except errors.FeatureNotSupported as refused:
                self.assertIn("cannot parse", str(refused))
        rows = self.rows("users")
        self.assertIn(rows[0], ((1, "a", "a"), (1, "éa", "éa")))
        for _, status, state in rows:
            self.assertEqual(status, state, rows)

    def test_utf8_non_ascii_write_is_rewritten(self):
        with self.connect() as conn:
            conn.execute("INSERT INTO users (id, status) VALUES (1, E'表ソ')")
            conn.execute("INSERT INTO accounts (id, status) VALUES (1, 'résilié')")
        self.assertEqual(self.rows("users"), [(1, "表ソ", "表ソ")])
        self.assertEqual(self.rows("accounts"), [(1, "résilié", 2)])

    UPDATE = ("UPDATE users SET name = 'p\\', status = $$v$$ WHERE id = 1 -- ', "
              "status = $$v$$ WHERE id = 1")

    def test_pipelined_standard_conforming_strings_off_then_backslash_is_refused(self):
        # The server reads 'p\', status = ... -- ' as one string once the SET has run; the
        # proxy, told only with the SET's answer, spliced N into it.
        self.direct("INSERT INTO users (id, name, status, state) VALUES (1, 'n', 'old', 'old')")
        with self.connect() as conn:
            with self.assertRaises(errors.FeatureNotSupported) as raised:
                with conn.pipeline():
                    conn.execute("SET standard_conforming_strings = off")
                    conn.execute(self.UPDATE)
            self.assertIn("not answered yet", str(raised.exception))
        self.assertEqual(self.rows("users", "id, name, status, state"), [(1, "n", "old", "old")])

    def test_escape_strings_with_standard_conforming_strings_off_are_rewritten(self):
        # Both read E'' strings alike; a backslash elsewhere is still refused.
        with self.connect(options="-c standard_conforming_strings=off") as conn:
            conn.execute(r"INSERT INTO users (id, status) VALUES (1, E'it\'s')")
            with self.assertRaises(errors.FeatureNotSupported) as raised:
                conn.execute(r"INSERT INTO users (id, status) VALUES (2, 'it\'s')")
            self.assertIn("outside an E'...' string", str(raised.exception))
        self.assertEqual(self.rows("users"), [(1, "it's", "it's")])

    def test_simple_queries_sent_before_the_set_is_answered_are_refused(self):
        self.direct("INSERT INTO users (id, name, status, state) VALUES (1, 'n', 'old', 'old')")
        with self.raw_session() as conn:
            conn.send(wire.query("SET standard_conforming_strings = off") + wire.query(self.UPDATE))
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            refused = wire.errors(conn.read_until_ready())
            self.assertEqual(refused[0]["C"], "0A000")
            # Answered now: the session's setting is known, and refused as documented.
            conn.send(wire.query(self.UPDATE))
            self.assertIn("standard_conforming_strings is off",
                          wire.errors(conn.read_until_ready())[0]["M"])
            conn.send(wire.query("SET standard_conforming_strings = on"))
            conn.read_until_ready()
            conn.send(wire.query("UPDATE users SET status = 'new' WHERE id = 1"))
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
        self.assertEqual(self.rows("users", "id, name, status, state"), [(1, "n", "new", "new")])

    def test_sjis_text_sent_before_set_names_is_answered_is_refused(self):
        # Still UTF8 to the proxy when the INSERT arrives; SJIS to the server when it reads it.
        insert = "INSERT INTO users (id, status) VALUES (1, E'表')".encode("shift_jis")
        with self.raw_session() as conn:
            conn.send(wire.query("SET NAMES 'SJIS'") + wire.message(b"Q", insert + b"\0"))
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "0A000")
        self.assertEqual(self.rows("users"), [])


    def test_pipelined_text_naming_an_encoding_column_is_no_setting_change(self):
        # An alias content_encoding (or a comment with the words) counted as a SET in flight:
        # the next pipelined non-ASCII write was refused.
        with self.connect() as conn:
            with conn.pipeline():
                conn.execute("SELECT 'gzip' AS content_encoding /* conforming */")
                conn.execute("INSERT INTO users (id, status) VALUES (%s, 'café')", (1,))
        self.assertEqual(self.rows("users"), [(1, "café", "café")])


    def test_shift_jis_2004_is_read_as_sjis_is(self):
        # ソ is 83 5C in SHIFT_JIS_2004 too: read as ASCII-safe, N landed in the server's comment.
        with self.connect(client_encoding="SHIFT_JIS_2004") as conn:
            with self.assertRaises(errors.FeatureNotSupported):
                self.run_bytes(conn, "UPDATE users SET status = E'ソ' WHERE id = 1 -- '"
                               .encode("shift_jis_2004"))
        # COPY ... (ENCODING 'SHIFT_JIS_2004') is staged: the server splits the converted rows.
        with self.connect() as conn:
            with conn.cursor().copy("COPY users (id, name, status) FROM STDIN "
                                    "(DELIMITER '|', ENCODING 'SHIFT_JIS_2004')") as copy:
                copy.write("1|ソ表|ポx\n".encode("shift_jis_2004"))
        self.assertEqual(self.rows("users", "id, name, status, state"), [(1, "ソ表", "ポx", "ポx")])


    def test_copy_after_a_set_of_client_encoding_in_its_own_text_is_refused(self):
        # The server reads the data in SJIS, the proxy split it as UTF-8: `\x83|` is a
        # delimiter to it, and N got the third field.
        with self.raw_session() as conn:
            conn.send(wire.query("SET client_encoding = 'SJIS'; "
                                 "COPY users (id, name, status) FROM STDIN (DELIMITER '|')"))
            refused = wire.errors(conn.read_until_ready())
            self.assertEqual(refused[0]["C"], "0A000")
            self.assertIn("own text", refused[0]["M"])
        self.assertEqual(self.rows("users"), [])
        with self.raw_session() as conn:
            conn.send(wire.query("SET client_encoding = 'SJIS'"))
            conn.read_until_ready()
            conn.send(wire.query("SET client_encoding = 'UTF8'"))
            conn.read_until_ready()
            conn.send(wire.query("RESET client_encoding; "
                                 "COPY users (id, name, status) FROM STDIN (DELIMITER '|')"))
            self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "0A000")
        self.assertEqual(self.rows("users"), [])

    # With standard_conforming_strings off the server reads 'a'' , ' as one string and runs the
    # UPDATE; on, it is `'a\', '<string>'` and no write.
    HIDDEN = "SELECT 'a\\' , ' ; UPDATE users SET status = '' WHERE id = 1; SELECT 1 -- '"

    def assert_hidden_refused(self, conn, first: bytes):
        """Sends `first` and HIDDEN back to back: `first` is answered without an error and
        HIDDEN, read under a setting `first` may change, is refused (0A000)."""
        conn.send(first + wire.query(self.HIDDEN))
        self.assertEqual(wire.errors(conn.read_until_ready()), [])
        self.assertEqual(wire.errors(conn.read_until_ready())[0]["C"], "0A000")

    def test_text_sent_before_a_transaction_end_undoing_set_local_is_answered_is_refused(self):
        self.direct("INSERT INTO users (id, name, status, state) VALUES (1, 'n', 'old', 'old')")
        for end in ("COMMIT", "ROLLBACK"):
            with self.raw_session() as conn:
                conn.send(wire.query("SET standard_conforming_strings = off"))
                conn.read_until_ready()
                conn.send(wire.query("BEGIN; SET LOCAL standard_conforming_strings = on"))
                conn.read_until_ready()
                self.assert_hidden_refused(conn, wire.query(end))
        self.assertEqual(self.rows("users", "id, name, status, state"), [(1, "n", "old", "old")])

    def test_text_sent_before_an_execute_of_a_prepared_set_config_is_answered_is_refused(self):
        self.direct("INSERT INTO users (id, name, status, state) VALUES (1, 'n', 'old', 'old')")
        prepare = "PREPARE p AS SELECT set_config('standard_conforming_strings', 'off', false)"
        with self.raw_session() as conn:
            conn.send(wire.query(prepare))
            conn.read_until_ready()
            self.assert_hidden_refused(conn, wire.query("EXECUTE p"))
        with self.raw_session() as conn:  # the same through a protocol Bind of the name
            conn.send(wire.query(prepare))
            conn.read_until_ready()
            self.assert_hidden_refused(
                conn, wire.bind(statement="p") + wire.execute() + wire.sync())
        with self.raw_session() as conn:  # prepared with a protocol Parse, judged at its Parse
            conn.send(wire.parse(prepare.split(" AS ", 1)[1], name="q") + wire.sync())
            conn.read_until_ready()
            self.assert_hidden_refused(
                conn, wire.bind(statement="q") + wire.execute() + wire.sync())
        self.assertEqual(self.rows("users", "id, name, status, state"), [(1, "n", "old", "old")])

    def test_pipelined_set_to_latin1_then_a_write_with_a_non_ascii_transform_is_refused(self):
        # The session was UTF-8 when the write was rewritten: the transform's 'résilié' went in
        # as UTF-8 bytes, which the server then read as LATIN1 (a write of 'résilié' left N
        # NULL). Refused, whatever value this write has.
        with self.raw_session() as conn:
            conn.send(wire.query("SET client_encoding = 'LATIN1'")
                      + wire.query("INSERT INTO accounts (id, status) VALUES (1, 'active')"))
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            refused = wire.errors(conn.read_until_ready())
            self.assertEqual(refused[0]["C"], "0A000")
            self.assertIn("not answered yet", refused[0]["M"])
        self.assertEqual(self.rows("accounts"), [])

    def test_text_sent_before_an_update_of_pg_settings_is_answered_is_refused(self):
        self.direct("INSERT INTO users (id, name, status, state) VALUES (1, 'n', 'old', 'old')")
        with self.raw_session() as conn:
            self.assert_hidden_refused(conn, wire.query(
                "UPDATE pg_settings SET setting = 'off' "
                "WHERE name = 'standard_conforming_strings'"))
        self.assertEqual(self.rows("users", "id, name, status, state"), [(1, "n", "old", "old")])

    def test_text_sent_before_a_bind_changing_a_setting_is_answered_is_refused(self):
        self.direct("INSERT INTO users (id, name, status, state) VALUES (1, 'n', 'old', 'old')")
        with self.raw_session() as conn:  # the unnamed statement, bound again
            conn.send(wire.parse("SELECT set_config('standard_conforming_strings', $1, false)")
                      + wire.bind(params=["on"]) + wire.execute() + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.assert_hidden_refused(
                conn, wire.bind(params=["off"]) + wire.execute() + wire.sync())
        with self.raw_session() as conn:  # a COMMIT prepared by name, undoing a SET LOCAL
            conn.send(wire.parse("COMMIT", name="c") + wire.sync())
            conn.read_until_ready()
            conn.send(wire.query("SET standard_conforming_strings = off"))
            conn.read_until_ready()
            conn.send(wire.query("BEGIN; SET LOCAL standard_conforming_strings = on"))
            conn.read_until_ready()
            self.assert_hidden_refused(
                conn, wire.bind(statement="c") + wire.execute() + wire.sync())
        self.assertEqual(self.rows("users", "id, name, status, state"), [(1, "n", "old", "old")])

    def test_text_sent_before_a_suspended_portals_next_rows_are_answered_is_refused(self):
        # The portal's second row turns standard_conforming_strings off, at the second Execute.
        self.direct("INSERT INTO users (id, name, status, state) VALUES (1, 'n', 'old', 'old')")
        with self.raw_session() as conn:
            conn.send(wire.query("BEGIN"))
            conn.read_until_ready()
            conn.send(wire.parse("SELECT set_config('standard_conforming_strings', CASE WHEN g = 1 "
                                 "THEN 'on' ELSE 'off' END, false) FROM generate_series(1, 2) g")
                      + wire.bind(portal="pp") + wire.execute("pp", 1) + wire.sync())
            self.assertEqual(wire.errors(conn.read_until_ready()), [])
            self.assert_hidden_refused(conn, wire.execute("pp", 1) + wire.sync())
            conn.send(wire.query("COMMIT"))  # what the UPDATE did, had it run, would stay
            conn.read_until_ready()
        self.assertEqual(self.rows("users", "id, name, status, state"), [(1, "n", "old", "old")])


CAFE = {"name": "cafe", "table": "public.café", "old_column": "statüs", "new_column": "état",
        "writes": "both", "reads": "old", "on_unsupported": None}


@requires_proxy
class NonAsciiNamesTest(RewriteCase):
    """A mapped table and columns with non-ASCII names, which the name match looks for as UTF-8."""

    MIGRATIONS = [CAFE]

    @classmethod
    def prepare_database(cls):
        cls.pg.query('CREATE TABLE "café" (id int PRIMARY KEY, "statüs" text, "état" text)')

    def setUp(self):
        super().setUp()
        self.pg.query('TRUNCATE "café"')

    def test_latin1_text_naming_it_is_refused_and_utf8_rewritten(self):
        # In LATIN1 bytes café is 63 61 66 E9: not found, the write went to statüs alone.
        with self.connect(client_encoding="LATIN1") as conn:
            for text in ("INSERT INTO café (id, statüs) VALUES (1, 'x')",
                         'INSERT INTO "café" (id, "statüs") VALUES (2, \'y\')'):
                with self.assertRaises(errors.FeatureNotSupported) as raised:
                    conn.execute(text.encode("latin1"), prepare=False)
                self.assert_rejected(raised, "cafe")
            # No non-ASCII byte: it cannot name the table.
            self.assertEqual(conn.execute("SELECT 1").fetchone(), (1,))
        with self.connect() as conn:
            conn.execute("INSERT INTO café (id, statüs) VALUES (3, 'z')")
        self.assertEqual(self.rows('"café"', 'id, "statüs", "état"'), [(3, "z", "z")])


if __name__ == "__main__":
    unittest.main()


@requires_proxy
class SqlAsciiOnLatin1DatabaseTest(RewriteCase):
    """A SQL_ASCII client's bytes are read in the database's encoding: on a LATIN1 database a
    transform's 'é' spliced as UTF-8 never matched, and N stayed NULL."""

    MIGRATIONS = [{"name": "lat-s", "database": "lat", "table": "public.t5", "old_column": "s",
                   "new_column": "s2", "writes": "both", "reads": "old",
                   "to_new": "CASE {value} WHEN 'é' THEN 1 WHEN 'actif' THEN 2 END",
                   "to_old": "CASE {value} WHEN 1 THEN 'é' WHEN 2 THEN 'actif' END"}]

    @classmethod
    def prepare_database(cls):
        cls.pg.query("CREATE DATABASE lat ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
                     "TEMPLATE template0", dbname="postgres")
        cls.pg.query("CREATE TABLE t5 (id int PRIMARY KEY, s text, s2 int)", dbname="lat")

    def test_write_spliced_with_a_non_ascii_transform_is_refused(self):
        with self.connect(dbname="lat", client_encoding="SQL_ASCII") as conn:
            with self.assertRaises(errors.FeatureNotSupported):
                self.run_bytes(conn, "INSERT INTO t5 (id, s) VALUES (1, 'é')".encode("latin1"))
        self.assertEqual(self.pg.query("SELECT id, s, s2 FROM t5", dbname="lat"), [])

    def run_bytes(self, conn, text: bytes):
        return conn.execute(text, prepare=False)
