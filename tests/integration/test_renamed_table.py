"""A mapped table renamed (or its schema renamed) while the proxy runs, checked in the DATA.

The rules follow the relation by OID: writes through the new name fill both columns and reads
through it are served as before, with a warning that the config should name the table anew.
Renamed back, the rules name the config's table again. Without that, writes through the new
name wrote the old column alone (hunt 48, finding 7).
"""

import os
import unittest

from psycopg import errors

from harness.util import line_of, wait_until
from test_rewrite import MigrationProxy, RewriteCase

MIGRATIONS = [
    {"name": "parcels-weight", "table": "public.parcels", "old_column": "weight",
     "new_column": "weight_v2", "writes": "both", "reads": "new"},
    {"name": "crates-tag", "table": "depot.crates", "old_column": "tag",
     "new_column": "tag_v2", "to_new": "upper({value})", "to_old": "lower({value})",
     "writes": "both", "reads": "new"},
]


class RenamedTableCase(RewriteCase):
    MIGRATIONS = MIGRATIONS
    CHECK_INTERVAL = "100ms"

    @classmethod
    def prepare_database(cls):
        cls.pg.query("CREATE TABLE parcels (id int PRIMARY KEY, weight text, weight_v2 text); "
                     "CREATE SCHEMA depot; "
                     "CREATE TABLE depot.crates (id int PRIMARY KEY, tag text, tag_v2 text)")

    @classmethod
    def start_migration_proxy(cls, migrations):
        p = MigrationProxy(cls.pg, migrations,
                           upstream={"catalog_check_interval": cls.CHECK_INTERVAL})
        p.start()
        return p

    def setUp(self):
        super().setUp()
        self.pg.query("TRUNCATE parcels, depot.crates")

    def through_proxy(self, sql):
        with self.connect() as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else None

    def wait_for_warning(self, text):
        wait_until(lambda: text in self.proxy.log_text(), 10, interval=0.05,
                   what=f"the warning {text!r}")

    def wait_for_reload_after(self, reloads):
        wait_until(lambda: self.proxy.reloads() > reloads, 10, interval=0.05,
                   what="the catalog check to build the rules again")


class RenamedElsewhereTest(RenamedTableCase):
    """Renamed on another connection: followed once the catalog check has run."""

    def test_a_renamed_table_is_still_written_both_and_read_new(self):
        self.through_proxy("INSERT INTO parcels (id, weight) VALUES (1, 'before')")
        self.pg.query("ALTER TABLE parcels RENAME TO parcels_renamed")
        try:
            self.wait_for_warning("table public.parcels was renamed to public.parcels_renamed")
            self.through_proxy("INSERT INTO parcels_renamed (id, weight) VALUES (2, 'after')")
            self.through_proxy("UPDATE public.parcels_renamed SET weight = 'updated' WHERE id = 1")
            self.assertEqual(self.pg.query("SELECT id, weight, weight_v2 FROM parcels_renamed "
                                           "ORDER BY id"),
                             [(1, "updated", "updated"), (2, "after", "after")])
            self.pg.query("UPDATE parcels_renamed SET weight_v2 = 'served' WHERE id = 2")
            self.assertEqual(
                self.through_proxy("SELECT weight FROM parcels_renamed WHERE id = 2"),
                [("served",)])
            reloads = self.proxy.reloads()
        finally:
            self.pg.query("ALTER TABLE IF EXISTS parcels_renamed RENAME TO parcels")
        self.wait_for_reload_after(reloads)
        self.through_proxy("INSERT INTO parcels (id, weight) VALUES (3, 'back')")
        self.assertEqual(self.pg.query("SELECT weight, weight_v2 FROM parcels WHERE id = 3"),
                         [("back", "back")])

    def test_a_renamed_schema_is_followed(self):
        self.pg.query("ALTER SCHEMA depot RENAME TO depot2")
        try:
            self.wait_for_warning("table depot.crates was renamed to depot2.crates")
            self.through_proxy("INSERT INTO depot2.crates (id, tag) VALUES (1, 'red')")
            self.assertEqual(self.pg.query("SELECT tag, tag_v2 FROM depot2.crates"),
                             [("red", "RED")])
            reloads = self.proxy.reloads()
        finally:
            self.pg.query("ALTER SCHEMA depot2 RENAME TO depot")
        self.wait_for_reload_after(reloads)
        self.through_proxy("INSERT INTO depot.crates (id, tag) VALUES (2, 'blue')")
        self.assertEqual(self.pg.query("SELECT tag, tag_v2 FROM depot.crates WHERE id = 2"),
                         [("blue", "BLUE")])


class AmbiguousNameTest(RenamedTableCase):
    """Another relation under the config's name while the followed table lives on elsewhere:
    the rules do not move to it (a swap of names, a view or an index under the old name, a new
    table); both names are refused until the config says which one is meant (hunt 48 h7, 2, 3,
    6, 11)."""

    @classmethod
    def prepare_database(cls):
        super().prepare_database()
        cls.pg.query("CREATE TABLE parcels_other (id int PRIMARY KEY, weight text, "
                     "weight_v2 text)")

    def setUp(self):
        super().setUp()
        self.pg.query("TRUNCATE parcels_other")

    def assert_refused(self, sql, *names):
        with self.assertRaises(errors.FeatureNotSupported) as refused:
            self.through_proxy(sql)
        for name in ("parcels-weight", "ambiguous") + names:
            self.assertIn(name, str(refused.exception))

    def rename_elsewhere(self, to):
        self.pg.query(f"ALTER TABLE parcels RENAME TO {to}")
        self.wait_for_warning(f"table public.parcels was renamed to public.{to} (the same")

    def wait_until_accepted(self):
        def accepted():
            try:
                self.through_proxy("SELECT count(*) FROM parcels")
                return True
            except errors.FeatureNotSupported:
                return False
        wait_until(accepted, 10, interval=0.05, what="the catalog check to end the refusal")

    def restore(self, cleanup, renamed):
        self.pg.query(f"{cleanup}; ALTER TABLE {renamed} RENAME TO parcels")
        self.wait_until_accepted()
        self.through_proxy("INSERT INTO parcels (id, weight) VALUES (99, 'restored')")
        self.assertEqual(self.pg.query("SELECT weight, weight_v2 FROM parcels WHERE id = 99"),
                         [("restored", "restored")])

    def test_a_swap_of_names_through_the_proxy_is_refused_and_writes_nothing(self):
        with self.connect(autocommit=False) as conn:
            conn.execute("ALTER TABLE parcels RENAME TO parcels_tmp")
            conn.execute("ALTER TABLE parcels_other RENAME TO parcels")
            conn.execute("ALTER TABLE parcels_tmp RENAME TO parcels_other")
            conn.commit()
            # The renaming session's next statement waits for the rules built again.
            with self.assertRaises(errors.FeatureNotSupported) as refused:
                conn.execute("INSERT INTO parcels (id, weight) VALUES (1, 'a')")
            self.assertIn("public.parcels is now a table", str(refused.exception))
            conn.rollback()
        try:
            self.assert_refused("INSERT INTO parcels (id, weight) VALUES (1, 'a')",
                                "public.parcels_other")
            self.assert_refused("INSERT INTO parcels_other (id, weight) VALUES (2, 'b')")
            self.assert_refused("SELECT weight FROM parcels")
            self.assertEqual(self.pg.query("SELECT count(*) FROM parcels"), [(0,)])
            self.assertEqual(self.pg.query("SELECT count(*) FROM parcels_other"), [(0,)])
        finally:
            self.pg.query("ALTER TABLE parcels RENAME TO parcels_tmp; "
                          "ALTER TABLE parcels_other RENAME TO parcels; "
                          "ALTER TABLE parcels_tmp RENAME TO parcels_other")
            self.wait_until_accepted()
        self.through_proxy("INSERT INTO parcels (id, weight) VALUES (3, 'back')")
        self.assertEqual(self.pg.query("SELECT weight, weight_v2 FROM parcels"),
                         [("back", "back")])

    def test_a_view_under_the_old_name_refuses_both_names(self):
        self.rename_elsewhere("parcels_viewed")
        try:
            self.pg.query("CREATE VIEW parcels AS SELECT * FROM parcels_viewed")
            self.wait_for_warning("public.parcels is now a view")
            self.assert_refused("INSERT INTO parcels_viewed (id, weight) VALUES (1, 'table')")
            self.assert_refused("INSERT INTO parcels (id, weight) VALUES (2, 'view')")
            self.assert_refused("UPDATE parcels_viewed SET weight = 'x'")
            self.assertEqual(self.pg.query("SELECT count(*) FROM parcels_viewed"), [(0,)])
        finally:
            self.restore("DROP VIEW IF EXISTS parcels", "parcels_viewed")

    def test_an_index_under_the_old_name_does_not_block_reloads(self):
        self.rename_elsewhere("parcels_indexed")
        try:
            self.pg.query("CREATE INDEX parcels ON parcels_indexed (weight)")
            flipped = [dict(MIGRATIONS[0], reads="old"), MIGRATIONS[1]]
            self.proxy.reload(flipped)
            self.wait_for_warning("public.parcels is now an index")
            self.assert_refused("INSERT INTO parcels_indexed (id, weight) VALUES (1, 'x')")
            self.assertEqual(self.pg.query("SELECT count(*) FROM parcels_indexed"), [(0,)])
            self.proxy.reload(MIGRATIONS)
        finally:
            self.restore("DROP INDEX IF EXISTS parcels", "parcels_indexed")

    def test_another_migrations_table_renamed_onto_the_name_takes_neither_rule(self):
        self.rename_elsewhere("parcels_a")
        try:
            self.pg.query("ALTER TABLE depot.crates SET SCHEMA public; "
                          "ALTER TABLE public.crates RENAME TO parcels")
            self.wait_for_warning("public.parcels_a (the migration's relation")
            self.assert_refused("INSERT INTO parcels (id, tag) VALUES (1, 'crate')")
            self.assert_refused("INSERT INTO parcels_a (id, weight) VALUES (2, 'parcel')")
            self.assertEqual(self.pg.query("SELECT count(*) FROM parcels"), [(0,)])
            self.assertEqual(self.pg.query("SELECT count(*) FROM parcels_a"), [(0,)])
        finally:
            self.pg.query("ALTER TABLE IF EXISTS public.parcels RENAME TO crates; "
                          "ALTER TABLE IF EXISTS public.crates SET SCHEMA depot")
            self.restore("SELECT 1", "parcels_a")
        self.through_proxy("INSERT INTO depot.crates (id, tag) VALUES (3, 'red')")
        self.assertEqual(self.pg.query("SELECT tag, tag_v2 FROM depot.crates"), [("red", "RED")])

    def test_a_table_without_the_new_column_under_the_old_name_does_not_block_reloads(self):
        self.rename_elsewhere("parcels_archive")
        try:
            reloads = self.proxy.reloads()
            self.pg.query("CREATE TABLE parcels (id int PRIMARY KEY, weight text)")
            self.wait_for_reload_after(reloads)
            self.proxy.reload([dict(MIGRATIONS[0], reads="old"), MIGRATIONS[1]])
            self.assertNotIn("add it (nullable)", self.proxy.log_text())
            self.assert_refused("INSERT INTO parcels (id, weight) VALUES (1, 'new table')")
            self.assert_refused("INSERT INTO parcels_archive (id, weight) VALUES (2, 'old')")
            self.assertEqual(self.pg.query("SELECT count(*) FROM parcels"), [(0,)])
            self.assertEqual(self.pg.query("SELECT count(*) FROM parcels_archive"), [(0,)])
            self.proxy.reload(MIGRATIONS)
        finally:
            self.restore("DROP TABLE IF EXISTS parcels", "parcels_archive")


class TableEditedTest(RenamedTableCase):
    """The config's `table` edited (same migration name) is a new mapping, looked up by name as
    at a start, not a rename of the old table to follow by OID (hunt 49 h10, finding 5)."""

    @classmethod
    def prepare_database(cls):
        super().prepare_database()
        cls.pg.query("CREATE TABLE parcels_next (id int PRIMARY KEY, weight text, "
                     "weight_v2 text)")

    def setUp(self):
        super().setUp()
        self.pg.query("TRUNCATE parcels_next")

    def edited(self, table):
        return [dict(MIGRATIONS[0], table=table), MIGRATIONS[1]]

    def test_another_existing_table_takes_the_rules_and_nothing_is_refused(self):
        logged = len(self.proxy.log_text())
        self.proxy.reload(self.edited("public.parcels_next"))
        try:
            self.through_proxy("INSERT INTO parcels_next (id, weight) VALUES (1, 'next')")
            self.through_proxy("INSERT INTO parcels (id, weight) VALUES (2, 'old table')")
            self.assertEqual(self.pg.query("SELECT id, weight, weight_v2 FROM parcels_next"),
                             [(1, "next", "next")])
            self.assertEqual(self.pg.query("SELECT id, weight, weight_v2 FROM parcels"),
                             [(2, "old table", None)])
            self.pg.query("UPDATE parcels_next SET weight_v2 = 'served'")
            self.assertEqual(self.through_proxy("SELECT weight FROM parcels_next"),
                             [("served",)])
            self.assertEqual(self.through_proxy("SELECT weight FROM parcels"), [("old table",)])
            since = self.proxy.log_text()[logged:]
            self.assertIn("changes=1", since)
            self.assertIn(r'table: \"public.parcels\" -> \"public.parcels_next\"', since)
            self.assertNotIn("ambiguous", since)
            self.assertNotIn("was renamed", since)
        finally:
            self.proxy.reload(MIGRATIONS)
        self.through_proxy("INSERT INTO parcels (id, weight) VALUES (3, 'back')")
        self.assertEqual(self.pg.query("SELECT weight, weight_v2 FROM parcels WHERE id = 3"),
                         [("back", "back")])

    def test_a_name_that_does_not_exist_fails_the_reload_and_the_rules_stay(self):
        logged = len(self.proxy.log_text())
        self.proxy.migrations = self.edited("public.parcels_typo")
        # The file watch alone reloads it: a SIGHUP as well could be refused again later, and
        # be taken for a refusal of the edit that restores the config.
        with open(self.proxy.config_path + ".tmp", "w") as f:
            f.write(self.proxy.config_text())
        os.replace(self.proxy.config_path + ".tmp", self.proxy.config_path)
        try:
            wait_until(lambda: "event=reload_rejected" in self.proxy.log_text()[logged:], 15,
                       interval=0.05, what="the reload to be refused")
            since = self.proxy.log_text()[logged:]
            self.assertIn("public.parcels_typo does not exist", since)
            line = line_of(self.proxy.config_path, 'table = "public.parcels_typo"')
            self.assertIn(f"{self.proxy.config_path}:{line}:9: migration[0].table: ", since)
            self.assertNotIn("was renamed", since)
            self.through_proxy("INSERT INTO parcels (id, weight) VALUES (1, 'kept')")
            self.assertEqual(self.pg.query("SELECT weight, weight_v2 FROM parcels"),
                             [("kept", "kept")])
        finally:
            self.proxy.reload(MIGRATIONS)


class RenamedThroughTheProxyTest(RenamedTableCase):
    """Renamed through the proxy, with the catalog check off: the session's next statement
    waits for the rules built again, so it is rewritten at once."""

    CHECK_INTERVAL = "0s"

    def test_the_next_statement_writes_both_columns(self):
        with self.connect() as conn:
            conn.execute("ALTER TABLE parcels RENAME TO parcels_moved")
            try:
                conn.execute("INSERT INTO parcels_moved (id, weight) VALUES (1, 'moved')")
                self.assertEqual(self.pg.query("SELECT weight, weight_v2 FROM parcels_moved"),
                                 [("moved", "moved")])
            finally:
                conn.execute("ALTER TABLE parcels_moved RENAME TO parcels")
            conn.execute("INSERT INTO parcels (id, weight) VALUES (2, 'back')")
        self.assertEqual(self.pg.query("SELECT weight, weight_v2 FROM parcels WHERE id = 2"),
                         [("back", "back")])

    def test_the_new_name_is_refused_until_commit(self):
        with self.connect(autocommit=False) as conn:
            conn.execute("ALTER TABLE parcels RENAME TO parcels_tx")
            with self.assertRaises(errors.FeatureNotSupported) as refused:
                conn.execute("INSERT INTO parcels_tx (id, weight) VALUES (1, 'in tx')")
            self.assertIn("parcels-weight", str(refused.exception))
            self.assertIn("after COMMIT", str(refused.exception))
            conn.rollback()
        self.assertEqual(self.pg.query("SELECT count(*) FROM parcels"), [(0,)])

    def test_set_schema_is_followed(self):
        with self.connect() as conn:
            conn.execute("ALTER TABLE parcels SET SCHEMA depot")
            try:
                conn.execute("INSERT INTO depot.parcels (id, weight) VALUES (1, 'there')")
                self.assertEqual(self.pg.query("SELECT weight, weight_v2 FROM depot.parcels"),
                                 [("there", "there")])
            finally:
                conn.execute("ALTER TABLE depot.parcels SET SCHEMA public")
            conn.execute("INSERT INTO parcels (id, weight) VALUES (2, 'here')")
        self.assertEqual(self.pg.query("SELECT weight, weight_v2 FROM parcels WHERE id = 2"),
                         [("here", "here")])


if __name__ == "__main__":
    unittest.main()
