"""asyncpg (Debian's python3-asyncpg) through the rewrite: a second driver with other habits.

asyncpg speaks only the extended protocol, names and caches every statement it runs, asks for
a Describe before each first Bind, sends and receives binary values, and copies in binary. So
it exercises what psql and psycopg leave out: a cached statement that must be re-prepared by
Switchyard after a flip without the driver noticing, binary parameters and results of
rewritten statements, and binary COPY into a mapped table (rewritten on the stream for a rename,
each field converted for a widened integer, refused across types it cannot convert, on a
session that must go on working). The data is checked straight in
Postgres.
"""

import asyncio

import asyncpg

from harness.base import requires_proxy
from harness.postgres import SUPERUSER
from test_rewrite import RewriteCase, both_migrations

# The classic widening: an int column moved to a bigint one, no transform.
WIDEN = {"name": "widen-n", "table": "public.widen", "old_column": "n", "new_column": "n_big",
         "writes": "both", "reads": "old"}


@requires_proxy
class AsyncpgTest(RewriteCase):

    def setUp(self):
        super().setUp()
        self.proxy.reload(both_migrations(writes="both", reads="old"))

    def run_client(self, body, through=None):
        """Runs `body(connection)` on an asyncpg connection through the proxy, bounded."""
        through = through or self.proxy

        async def session():
            conn = await asyncpg.connect(host=through.host, port=through.port,
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

    def test_binary_copy_fills_both_columns_of_a_rename_and_of_a_type_change(self):
        async def body(conn):
            # users: status and state are both text, so a binary field serves either.
            await conn.copy_records_to_table("users", records=[(1, "a", "active"),
                                                               (2, "b", None)],
                                             columns=["id", "name", "status"])
            # accounts: text to smallint through to_new; the bytes would not be a smallint,
            # so the COPY goes through a staging table and the server applies to_new.
            tag = await conn.copy_records_to_table("accounts", records=[(1, "a", "active"),
                                                                        (2, "b", "inactive")],
                                                   columns=["id", "name", "status"])
            self.assertEqual(tag, "COPY 2")
            # The same session: a binary COPY that does not touch a mapped column, and a query.
            await conn.copy_records_to_table("orders", records=[(7, 1, 30, "new")],
                                             columns=["id", "user_id", "amount", "status"])
            return await conn.fetchval("SELECT count(*) FROM orders")

        self.assertEqual(self.run_client(body), 1)
        self.assertEqual(self.rows("users"), [(1, "active", "active"), (2, None, None)])
        self.assertEqual(self.rows("accounts"), [(1, "active", 1), (2, "inactive", 0)])
        self.assertEqual(self.direct("SELECT id, amount FROM orders"), [(7, 30)])

    def test_binary_copy_into_a_widened_column_converts_each_field(self):
        # asyncpg always copies in binary: an int4 field's 4 bytes are not an int8, so each
        # field written to the other column is converted on the stream (Go's pgx does the same).
        widen_proxy = self.widen_table()
        self.direct("DELETE FROM widen")
        low, high = -2**31, 2**31 - 1

        async def body(conn):
            await conn.copy_records_to_table("widen", records=[(1, 9), (2, None), (3, low)],
                                             columns=["id", "n"])
            # The updated app sends n_big's 8 bytes: narrowed for n, so one past n's range
            # fails the whole COPY, as the INSERT's cast would, and the session goes on.
            await conn.copy_records_to_table("widen", records=[(high, 4)], columns=["n_big", "id"])
            try:
                await conn.copy_records_to_table("widen", records=[(5, 1), (6, high + 1)],
                                                 columns=["id", "n_big"])
                failed = None
            except asyncpg.exceptions.PostgresError as e:
                failed = str(e)
            # writes = "new": n's field goes to n_big alone, widened.
            widen_proxy.reload([dict(WIDEN, writes="new", reads="new")])
            await conn.copy_records_to_table("widen", records=[(7, high)], columns=["id", "n"])
            return failed, await conn.fetchval("SELECT count(*) FROM widen")

        failed, count = self.run_client(body, through=widen_proxy)
        self.assertIn("row 2, column n: integer out of range (value 2147483648)", failed)
        self.assertEqual(count, 5)
        self.assertEqual(self.rows("widen", "id, n, n_big"),
                         [(1, 9, 9), (2, None, None), (3, low, low), (4, high, high),
                          (7, None, high)])

    def test_a_cached_statement_keeps_its_result_type_when_reads_flip_to_a_wider_column(self):
        # asyncpg decodes binary results with the types of its cached Describe. Served from
        # the bigint column as is, the int4 result would arrive as 8 bytes the driver reads
        # as 4; Switchyard casts a result column back to the old column's type.
        self.direct("DROP TABLE IF EXISTS widen")
        self.direct("CREATE TABLE widen (id int PRIMARY KEY, n int, n_big bigint)")
        self.direct("INSERT INTO widen VALUES (1, 7, 7), (2, 8, 8)")
        widen_proxy = self.migration_proxy([WIDEN])

        async def body(conn):
            by_id = await conn.prepare("SELECT n FROM widen WHERE id = $1")
            before = await by_id.fetchval(1)
            widen_proxy.reload([dict(WIDEN, reads="new")])
            self.direct("UPDATE widen SET n_big = 70 WHERE id = 1")  # to see where reads go
            after = await by_id.fetchval(1)
            fresh = await conn.prepare("SELECT n, id FROM widen ORDER BY id")
            types = [a.type.name for a in fresh.get_attributes()]
            star = await conn.fetchrow("SELECT * FROM widen WHERE id = 2")
            return before, after, types, dict(star)

        before, after, types, star = self.run_client(body, through=widen_proxy)
        self.assertEqual(before, 7)
        self.assertEqual(after, 70, "served from n_big, in n's type")
        self.assertEqual(types, ["int4", "int4"])
        self.assertEqual(star, {"id": 2, "n": 8})

    def widen_table(self):
        self.direct("DROP TABLE IF EXISTS widen")
        self.direct("CREATE TABLE widen (id int PRIMARY KEY, n int, n_big bigint)")
        self.direct("INSERT INTO widen VALUES (1, 7, 7), (2, 8, 8)")
        return self.migration_proxy([WIDEN])

    def test_a_cached_statement_keeps_its_parameter_types_when_reads_flip_to_a_wider_column(self):
        # asyncpg encodes binary parameters by the types of its cached Describe. Compared with
        # the bigint column, a $1 left to the server would become an int8 at the re-prepare
        # and the driver's 4 bytes would not read as one ("insufficient data left in
        # message"); Switchyard's re-prepare keeps the types the statement had.
        widen_proxy = self.widen_table()

        async def body(conn):
            by_n = await conn.prepare("SELECT id FROM widen WHERE n = $1")
            before = await by_n.fetchval(8)
            widen_proxy.reload([dict(WIDEN, reads="new")])
            self.direct("UPDATE widen SET n_big = 80 WHERE id = 2")  # to see where reads go
            after = (await by_n.fetchval(80), await by_n.fetchval(8))
            return before, after, [t.name for t in by_n.get_parameters()]

        before, after, params = self.run_client(body, through=widen_proxy)
        self.assertEqual(before, 2)
        self.assertEqual(after, (2, None), "compared with n_big, $1 still an int4")
        self.assertEqual(params, ["int4"])

    def test_a_flip_keeps_result_types_and_a_dropped_old_column_gets_the_error_postgres_gives(
            self):
        # Under reads = new what reaches the client is cast back to the old column's type:
        # max(n) and n + 1 stay int4 across the flip, and the driver's cached statements go on.
        # Once the old column is dropped, a config that names the new column's type as old_type
        # serves them as bigints from n_big. A statement the driver described as int4 must not get 8-byte
        # values in binary; Switchyard compares the result types when it prepares the
        # statement again and answers as Postgres does when a column changes type under a
        # prepared statement, which asyncpg knows: its statement cache prepares again and
        # retries, and an explicit prepared statement says it is invalid.
        widen_proxy = self.widen_table()
        served = dict(WIDEN, writes="new", reads="new")

        async def body(conn):
            cached = "SELECT max(n) AS top FROM widen"
            explicit = await conn.prepare("SELECT n + 1 AS next FROM widen WHERE id = $1")
            before = (await conn.fetchval(cached), await explicit.fetchval(1))
            widen_proxy.reload([dict(WIDEN, reads="new")])
            self.direct("UPDATE widen SET n_big = 70 WHERE id = 1")  # to see where reads go
            flipped = (await conn.fetchval(cached), await explicit.fetchval(1),
                       [a.type.name for a in explicit.get_attributes()])

            self.direct("ALTER TABLE widen DROP COLUMN n")
            widen_proxy.reload([dict(served, old_type="bigint")])
            retried = await conn.fetchval(cached)  # outside a transaction: retried
            outcomes = []
            for _ in range(2):  # refused until prepared again, as by Postgres
                try:
                    outcomes.append(await explicit.fetchval(1))
                except asyncpg.exceptions.InvalidCachedStatementError as e:
                    outcomes.append(type(e).__name__)
            prepared_again = await conn.prepare("SELECT n + 1 AS next FROM widen WHERE id = $1")
            fresh = (await prepared_again.fetchval(1),
                     [a.type.name for a in prepared_again.get_attributes()])

            # Inside a transaction the driver cannot retry: the error fails the transaction
            # as Postgres's would, and the session goes on. sum() of the bigint is a numeric;
            # with the old column back, sum() of it cast back is a bigint.
            in_transaction = await conn.prepare("SELECT sum(n) AS total FROM widen")
            await in_transaction.fetchval()
            self.direct("ALTER TABLE widen ADD COLUMN n int")
            widen_proxy.reload([served])
            try:
                async with conn.transaction():
                    await in_transaction.fetchval()
                failed_transaction = None
            except asyncpg.exceptions.InvalidCachedStatementError as e:
                failed_transaction = (e.sqlstate, e.server_source_function)
            after_it = await conn.fetchval("SELECT count(*) FROM widen")
            return before, flipped, retried, outcomes, fresh, failed_transaction, after_it

        before, flipped, retried, outcomes, fresh, failed_transaction, after_it = (
            self.run_client(body, through=widen_proxy))
        self.assertEqual(before, (8, 8))
        self.assertEqual(flipped, (70, 71, ["int4"]), "served from n_big, still int4")
        self.assertEqual(retried, 70, "the driver prepared it again, served from n_big")
        self.assertEqual(outcomes, ["InvalidCachedStatementError"] * 2)
        self.assertEqual(fresh, (71, ["int8"]))
        self.assertEqual(failed_transaction, ("0A000", "RevalidateCachedQuery"))
        self.assertEqual(after_it, 2)
