"""A randomized mix of supported writes through Switchyard never lets the columns drift.

Two app sessions write the two mapped tables of test_rewrite: an old app writing the old
column and an updated app writing the new one, with INSERT (single, multi-row, no column list,
a volatile value, INSERT ... SELECT, a UNION of SELECT * with or without a column list), UPDATE
(by id, by a read of the old column, FROM another table, a volatile value), upserts (ON
CONFLICT and MERGE) and DELETE, over the simple protocol, the extended protocol and named
prepared statements, sometimes inside a transaction that is rolled back. Halfway through, reads
flip to the new column (SIGHUP). Afterwards, read straight from Postgres:

    SELECT count(*) FROM t WHERE old IS DISTINCT FROM to_old(new)   -- 0
    SELECT count(*) FROM t WHERE new IS DISTINCT FROM to_new(old)   -- 0

and the old column equals a Python model of what the statements should have done, so a write
that is lost (not only one that drifts) fails too. The run is seeded (SWITCHYARD_PROPERTY_SEED
overrides it; the seed is in every failure message) and bounded in count and time.
"""

import os
import random
import time
import unittest

import psycopg

from harness.base import requires_proxy
from test_rewrite import ACCOUNTS, USERS, RewriteCase, both_migrations

SEED = int(os.environ.get("SWITCHYARD_PROPERTY_SEED", "20261123"))
MAX_OPS = 400
MAX_SECONDS = 25.0
MIN_OPS = 60  # a run that does less than this proves nothing: fail rather than pass vacuously
IDS = range(1, 41)

DRIFT = {
    "users": ("SELECT count(*) FROM users WHERE status IS DISTINCT FROM state",
              "SELECT count(*) FROM users WHERE state IS DISTINCT FROM status"),
    "accounts": ("SELECT count(*) FROM accounts WHERE status IS DISTINCT FROM acc_to_old(state)",
                 "SELECT count(*) FROM accounts WHERE state IS DISTINCT FROM acc_to_new(status)"),
}
VALUES = {"users": ("active", "inactive", "suspended", "on hold", None),
          "accounts": ("active", "inactive", None)}
STAGING = {1: "inactive", 4: "active", 9: None, 16: "inactive"}
# Relative frequencies: deletes are rarer, so the tables stay populated for the updates.
OPS = {"insert_old": 3, "insert_new": 3, "insert_volatile": 1, "insert_multi": 2,
       "insert_no_list": 1, "insert_select": 1, "insert_union": 1, "update_old": 3,
       "update_new": 3, "update_volatile": 1, "update_where_old": 1, "update_from": 1,
       "upsert_old": 2, "upsert_new": 2, "merge_old": 1.5, "merge_new": 1.5, "delete": 1,
       "delete_where_old": 0.5}


class Workload:
    """Generates statements and applies their expected effect to a model {table: {id: old}}."""

    def __init__(self, rng):
        self.rng = rng
        self.model = {"users": {}, "accounts": {}}
        self.counts = {}

    def pick(self, table):
        return self.rng.choice(VALUES[table])

    def free_ids(self, model, table, n):
        free = [i for i in IDS if i not in model[table]]
        return self.rng.sample(free, min(n, len(free)))

    def statement(self, model):
        """(op name, sql with %s placeholders, params, mutation of model) for one write."""
        t = self.rng.choice((USERS, ACCOUNTS))
        table, rows = t.table, model[t.table]
        op = self.rng.choices(tuple(OPS), weights=tuple(OPS.values()))[0]
        if op.startswith("insert") and not self.free_ids(model, table, 1):
            op = "delete"
        v = self.pick(table)

        def set_rows(pairs):
            def apply():
                rows.update(pairs)
            return apply

        if op == "insert_old":
            (i,) = self.free_ids(model, table, 1)
            return op, f"INSERT INTO {table} (id, name, status) VALUES (%s, 'p', %s)", \
                (i, v), set_rows({i: v})
        if op == "insert_volatile":
            # Computed once, in a CTE both columns read (a constant here, for the model).
            (i,) = self.free_ids(model, table, 1)
            return op, (f"INSERT INTO {table} (id, status) VALUES "
                        "(%s, CASE WHEN random() < 2 THEN %s::text END)"), (i, v), set_rows({i: v})
        if op == "insert_new":
            (i,) = self.free_ids(model, table, 1)
            return op, f"INSERT INTO {table} (id, state) VALUES (%s, %s)", (i, t.new(v)), \
                set_rows({i: v})
        if op in ("insert_multi", "insert_select"):
            ids = self.free_ids(model, table, self.rng.randint(1, 3))
            vals = [self.pick(table) for _ in ids]
            tuples = ", ".join(["(%s, %s)"] * len(ids))
            params = tuple(x for pair in zip(ids, vals) for x in pair)
            if op == "insert_multi":
                text = f"INSERT INTO {table} (status, id) VALUES {tuples}"
                params = tuple(x for pair in zip(vals, ids) for x in pair)
            else:
                casts = ", ".join(["(%s::int, %s::text)"] * len(ids))
                text = (f"INSERT INTO {table} (id, status) SELECT v.i, v.s "
                        f"FROM (VALUES {casts}) AS v (i, s)")
            return op, text, params, set_rows(dict(zip(ids, vals)))
        if op == "insert_union":
            ids = self.free_ids(model, table, 2)
            vals = [self.pick(table) for _ in ids]
            params = tuple(x for pair in zip(ids, vals) for x in pair)
            if self.rng.random() < 0.5:
                text = " UNION ALL ".join(["SELECT * FROM (VALUES (%s::int, %s::text)) v"] *
                                          len(ids))
                return op, f"INSERT INTO {table} (id, status) {text}", params, \
                    set_rows(dict(zip(ids, vals)))
            # Without a column list: the query's width (3) names id, name, status.
            text = " UNION ALL ".join(["SELECT * FROM (VALUES (%s::int, 'u', %s::text)) v"] *
                                      len(ids))
            return op, f"INSERT INTO {table} {text}", params, set_rows(dict(zip(ids, vals)))
        if op == "insert_no_list":
            (i,) = self.free_ids(model, table, 1)
            return op, f"INSERT INTO {table} VALUES (%s, 'p', %s)", (i, v), set_rows({i: v})
        if op in ("update_old", "update_new"):
            i = self.rng.choice(IDS)
            column, value = ("status", v) if op == "update_old" else ("state", t.new(v))
            return op, f"UPDATE {table} SET {column} = %s WHERE id = %s", (value, i), \
                set_rows({i: v} if i in rows else {})
        if op == "update_volatile":
            # A volatile value (always the same one here, for the model) is computed once per
            # row in a sub-SELECT that both columns read.
            return op, (f"UPDATE {table} SET status = CASE WHEN random() < 2 THEN %s::text END "
                        "WHERE id <= %s"), (v, 5), set_rows({i: v for i in rows if i <= 5})
        if op == "update_where_old":
            # A write whose value and filter both read the old column.
            match = self.pick(table)
            flip = {r: ("inactive" if old == "active" else "active")
                    for r, old in rows.items() if old == match and match is not None}
            return op, (f"UPDATE {table} SET status = CASE status WHEN 'active' THEN 'inactive' "
                        "ELSE 'active' END WHERE status = %s"), (match,), set_rows(flip)
        if op == "update_from":
            hit = {i: s for i, s in STAGING.items() if i in rows}
            return op, (f"UPDATE {table} AS t SET status = s.status FROM staging s "
                        "WHERE s.id = t.id AND s.id < %s"), (100,), set_rows(hit)
        if op in ("upsert_old", "upsert_new"):
            i = self.rng.choice(IDS)
            column, value = ("status", v) if op == "upsert_old" else ("state", t.new(v))
            return op, (f"INSERT INTO {table} (id, {column}) VALUES (%s, %s) ON CONFLICT (id) "
                        f"DO UPDATE SET {column} = EXCLUDED.{column}"), (i, value), \
                set_rows({i: v})
        if op in ("merge_old", "merge_new"):
            i = self.rng.choice(IDS)
            column, value = ("status", v) if op == "merge_old" else ("state", t.new(v))
            return op, (f"MERGE INTO {table} t USING (SELECT %s::int AS i) s ON t.id = s.i "
                        f"WHEN MATCHED THEN UPDATE SET {column} = %s "
                        f"WHEN NOT MATCHED THEN INSERT (id, {column}) VALUES (s.i, %s)"), \
                (i, value, value), set_rows({i: v})
        if op == "delete":
            i = self.rng.choice(list(rows) or list(IDS))
            return op, f"DELETE FROM {table} WHERE id = %s", (i,), lambda: rows.pop(i, None)
        # delete_where_old
        k = self.rng.randrange(4)
        gone = [r for r, old in rows.items() if old == v and v is not None and r % 4 == k]
        return op, f"DELETE FROM {table} WHERE status = %s AND id %% 4 = %s", (v, k), \
            lambda: [rows.pop(r) for r in gone]


@requires_proxy
class RewritePropertyTest(RewriteCase):
    MIGRATIONS = both_migrations(writes="both", reads="old")

    def setUp(self):
        super().setUp()
        self.proxy.reload(self.MIGRATIONS)
        self.direct("INSERT INTO staging (id, status) VALUES " + ", ".join(
            f"({i}, {'NULL' if s is None else repr(s)})" for i, s in STAGING.items()))

    def run_one(self, conn, how, text, params):
        if how == "simple":
            # Merged on the client and sent as a simple Query.
            conn.execute(psycopg.ClientCursor(conn).mogrify(text, params))
        else:
            conn.execute(text, params, prepare=(how == "prepared"))

    def test_random_supported_writes_never_drift(self):
        rng = random.Random(SEED)
        work = Workload(rng)
        start = time.monotonic()
        done = 0
        flipped = False
        with self.connect() as old_app, self.connect() as new_app:
            while done < MAX_OPS and time.monotonic() - start < MAX_SECONDS:
                if not flipped and (done >= MAX_OPS // 2
                                    or time.monotonic() - start >= MAX_SECONDS / 2):
                    self.proxy.reload(both_migrations(writes="both", reads="new"))
                    flipped = True
                conn = rng.choice((old_app, new_app))
                if rng.random() < 0.15:
                    done += self.transaction(conn, rng, work)
                    continue
                op, text, params, apply = work.statement(work.model)
                how = rng.choice(("simple", "extended", "prepared"))
                try:
                    self.run_one(conn, how, text, params)
                except psycopg.Error as e:
                    self.fail(f"seed {SEED}, op {done} {op} ({how}): {text} {params}: {e}")
                apply()
                work.counts[op] = work.counts.get(op, 0) + 1
                done += 1
        self.assertGreaterEqual(done, MIN_OPS, f"seed {SEED}: only {done} statements ran")
        for table, (old_vs_new, new_vs_old) in DRIFT.items():
            self.assertEqual(self.direct(old_vs_new), [(0,)], f"seed {SEED}: {table} drifted")
            self.assertEqual(self.direct(new_vs_old), [(0,)], f"seed {SEED}: {table} drifted")
            got = dict(self.direct(f"SELECT id, status FROM {table}"))
            self.assertEqual(got, work.model[table], f"seed {SEED}: {table} != model")
        if done >= 200:
            # Every kind of write actually ran (the mix is not accidentally degenerate).
            self.assertEqual(set(work.counts), set(OPS), f"seed {SEED}: {work.counts}")

    def transaction(self, conn, rng, work):
        """2-3 writes in one transaction, committed or rolled back; returns statements run."""
        model = {t: dict(rows) for t, rows in work.model.items()}
        commit = rng.random() < 0.6
        ran = 0
        with conn.transaction(force_rollback=not commit):
            for _ in range(rng.randint(2, 3)):
                op, text, params, apply = work.statement(model)
                how = rng.choice(("simple", "extended", "prepared"))
                try:
                    self.run_one(conn, how, text, params)
                except psycopg.Error as e:
                    self.fail(f"seed {SEED}, in a transaction, {op} ({how}): {text} {params}: "
                              f"{e}")
                apply()
                ran += 1
        if commit:
            work.model = model
        return ran


if __name__ == "__main__":
    unittest.main()
