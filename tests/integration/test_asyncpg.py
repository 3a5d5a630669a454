"""asyncpg (Debian's python3-asyncpg) through the rewrite: a second driver with other habits.

asyncpg speaks only the extended protocol, names and caches every statement it runs, asks for
a Describe before each first Bind, sends and receives binary values, and copies in binary. So
it exercises what psql and psycopg leave out: a cached statement that must be re-prepared by
Switchyard after a flip without the driver noticing, binary parameters and results of
rewritten statements, and a binary COPY into a mapped table (refused, DESIGN §3) on a session
that must go on working. The data is checked straight in Postgres.
"""

import asyncio

import asyncpg

from harness.base import requires_proxy
from harness.postgres import SUPERUSER
from test_rewrite import RewriteCase, both_migrations


@requires_proxy
class AsyncpgTest(RewriteCase):

    def setUp(self):
        super().setUp()
        self.proxy.reload(both_migrations(writes="both", reads="old"))

    def run_client(self, body):
        """Runs `body(connection)` on an asyncpg connection through the proxy, bounded."""

        async def session():
            conn = await asyncpg.connect(host=self.proxy.host, port=self.proxy.port,
                                         user=SUPERUSER, password=self.pg.password,
                                         database=self.pg.dbname, ssl=False, timeout=10,
                                         command_timeout=20)
            try:
                return await body(conn)
            finally:
                await conn.close(timeout=5)

        return asyncio.run(asyncio.wait_for(session(), 60))

    def test_dual_writes_and_a_cached_statement_across_flips(self):
        flip = self.proxy.reload

        async def body(conn):
            # Binary parameters, one statement, executemany (one Parse, many Binds).
            await conn.execute("INSERT INTO accounts (id, status) VALUES ($1, $2)", 1, "active")
            await conn.executemany("INSERT INTO accounts (id, name, status) VALUES ($1, $2, $3)",
                                   [(2, "b", "inactive"), (3, "c", "active")])
            by_id = await conn.prepare("SELECT id, status FROM accounts WHERE id = $1")
            self.assertEqual([a.type.name for a in by_id.get_attributes()], ["int4", "text"])
            first = await by_id.fetchrow(1)

            # Behind the proxy's back, so that reads = "new" is visible in what comes back.
            self.direct("UPDATE accounts SET state = 0 WHERE id = 1")
            flip(both_migrations(writes="both", reads="new"))
            # The driver re-runs its cached statement; Switchyard prepares the new rewrite.
            flipped = await by_id.fetchrow(1)
            attributes = [a.type.name for a in by_id.get_attributes()]

            flip(both_migrations(writes="new", reads="new"))
            await conn.execute("UPDATE accounts SET status = $1 WHERE id = $2", "inactive", 3)
            returned = await conn.fetchrow(
                "UPDATE accounts SET status = $1 WHERE id = $2 RETURNING status", "active", 2)
            after = await by_id.fetchrow(3)
            return first, flipped, attributes, returned, after

        first, flipped, attributes, returned, after = self.run_client(body)
        self.assertEqual(tuple(first), (1, "active"))
        self.assertEqual(tuple(flipped), (1, "inactive"), "served from to_old(state)")
        self.assertEqual(attributes, ["int4", "text"], "same result types after the flip")
        self.assertEqual(tuple(returned), ("active",))
        self.assertEqual(tuple(after), (3, "inactive"))
        # writes = "both" filled both columns; writes = "new" wrote only the new one.
        self.assertEqual(self.rows("accounts"),
                         [(1, "active", 0), (2, "inactive", 1), (3, "active", 0)])

    def test_binary_copy_into_the_mapped_column_is_refused_and_the_session_goes_on(self):
        async def body(conn):
            with self.assertRaises(asyncpg.exceptions.FeatureNotSupportedError) as raised:
                await conn.copy_records_to_table("accounts", records=[(1, "a", "active")],
                                                 columns=["id", "name", "status"])
            self.assertEqual(raised.exception.sqlstate, "0A000")
            self.assertIn("accounts-status-to-state", str(raised.exception))
            # The same session: a binary COPY that does not touch a mapped column, and a query.
            await conn.copy_records_to_table("orders", records=[(7, 1, 30, "new")],
                                             columns=["id", "user_id", "amount", "status"])
            return await conn.fetchval("SELECT count(*) FROM orders")

        self.assertEqual(self.run_client(body), 1)
        self.assertEqual(self.rows("accounts"), [], "nothing half-written")
        self.assertEqual(self.direct("SELECT id, amount FROM orders"), [(7, 30)])
