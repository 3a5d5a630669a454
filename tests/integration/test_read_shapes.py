"""Read shapes a randomized differential hunt found refused, checked against Postgres' answers.

Every query runs twice on one database whose new columns hold to_new of the old ones: straight
to Postgres (the answer before the migration) and through a proxy serving reads from the new
columns. The rows must be equal, or the proxy must refuse with 0A000 naming the migration where
the module says it does.
"""

from harness.base import requires_proxy
from test_rewrite import RENAME, TYPE_CHANGE, RewriteCase, migration

WIDEN = {"name": "nums-n", "table": "public.nums", "old_column": "n", "new_column": "n8",
         "writes": "both", "reads": "new"}


@requires_proxy
class ReadShapesTest(RewriteCase):

    MIGRATIONS = [migration(RENAME, reads="new"), migration(TYPE_CHANGE, reads="new"), WIDEN]

    @classmethod
    def prepare_database(cls):
        cls.pg.query("CREATE TABLE tags (id int PRIMARY KEY, name text, kind text); "
                     "CREATE TABLE nums (id int PRIMARY KEY, n int, n8 bigint)")

    def setUp(self):
        super().setUp()
        self.direct("TRUNCATE tags, nums")
        self.direct("INSERT INTO users VALUES (1, 'a', 'inactive', 'inactive'), "
                    "(2, 'b', 'active', 'active'), (3, 'c', NULL, NULL)")
        self.direct("INSERT INTO accounts VALUES (1, 'a', 'active', 1), (2, 'b', 'active', 1), "
                    "(3, 'c', 'inactive', 0), (4, 'd', NULL, NULL)")
        self.direct("INSERT INTO orders VALUES (1, 1, 10, 'active'), (2, 2, 20, 'x')")
        self.direct("INSERT INTO tags VALUES (1, 't1', 'active'), (2, 't2', NULL), "
                    "(3, 't3', 'inactive'), (4, 't4', 'active')")
        self.direct("INSERT INTO nums VALUES (1, 0, 0), (2, 1, 1), (3, 1, 1), (4, 2, 2), "
                    "(5, NULL, NULL)")

    def assert_same_answer(self, text):
        with self.subTest(text), self.connect() as conn:
            self.assertEqual(conn.execute(text).fetchall(), self.direct(text))

    def test_a_star_over_an_unmapped_table_before_the_mapped_one_resolves_a_bare_old_column(self):
        for text in [
            "SELECT status FROM (SELECT * FROM tags) s2, users WHERE users.id = 1 AND s2.id = 1",
            "SELECT status FROM users, (SELECT * FROM tags) s2 WHERE users.id = 1 AND s2.id = 1",
            "SELECT status, s2.name FROM (SELECT t.* FROM tags t) s2, users ORDER BY 1, 2",
            "SELECT status, x FROM (SELECT *, 1 AS x FROM tags) s2 JOIN users ON s2.id = "
            "users.id ORDER BY 1",
            "SELECT status FROM (SELECT * FROM tags) s2 CROSS JOIN users ORDER BY 1",
            "WITH c AS (SELECT * FROM tags) SELECT status, c.id FROM c, users ORDER BY 1, 2",
            "SELECT status, count(*) FROM (SELECT * FROM tags) s2, accounts GROUP BY status "
            "ORDER BY 1",
            "SELECT n FROM (SELECT * FROM tags) s2, nums WHERE s2.id = nums.id ORDER BY 1",
        ]:
            self.assert_same_answer(text)
