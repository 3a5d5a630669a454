"""Randomized pipelines of session changes never leave Switchyard resolving names otherwise than
the server.

The proxy follows each session's search_path and current_user to know which table an
unqualified name is: SET, SET LOCAL, RESET, SET ROLE, DISCARD ALL, transactions, savepoints, and
the failures that undo them, over the simple and the extended protocol, with requests pipelined
behind each other before their answers. Each round sends a random pipeline of such statements
(with failing ones) and probes with one write through the proxy, in half the rounds pipelined
right behind them (after a ROLLBACK), which the proxy must hold until their answers are in, in
the others once every answer is read:

    INSERT INTO users (id, status) VALUES (n, 'active')

`users` is public.users (mapped: the write must fill the new column too), shadow.users or
alice.users (unmapped: the write must run as written) as the server's path and role say. A
proxy that took the name for another table than the server either leaves the new column empty
or adds a column the table does not have (an error): both fail the round, with the seed and
the pipeline in the message. The run is seeded (SWITCHYARD_PROPERTY_SEED overrides it) and
bounded in count and time.
"""

import os
import random
import time
import unittest

from harness import rawclient as wire
from test_rewrite import RewriteCase, both_migrations, create_shadowing_tables

SEED = int(os.environ.get("SWITCHYARD_PROPERTY_SEED", "20261205"))
MAX_ROUNDS = 300
MAX_SECONDS = 25.0
MIN_ROUNDS = 40  # fewer proves nothing: fail rather than pass vacuously

PATHS = ["SET search_path = shadow, public", "SET search_path = public",
         "SET search_path TO DEFAULT", "RESET search_path",
         "SET LOCAL search_path = shadow, public", "SET LOCAL search_path = public"]
ROLES = ["SET ROLE alice", "RESET ROLE", "SET LOCAL ROLE alice", "SET SESSION AUTHORIZATION alice",
         "RESET SESSION AUTHORIZATION"]
ENDS = ["BEGIN", "COMMIT", "ROLLBACK", "END"]
OTHERS = ["SELECT 1/0", "SELECT 1", "DISCARD ALL"]
SAVEPOINTS = ["SAVEPOINT s", "ROLLBACK TO s", "RELEASE s"]
WHERE = ("SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
         "WHERE c.oid = to_regclass('users')")


class SessionFollowingPropertyTest(RewriteCase):
    MIGRATIONS = both_migrations(writes="both", reads="old")

    @classmethod
    def prepare_database(cls):
        create_shadowing_tables(cls.pg)
        # The probe may run as alice.
        cls.pg.query("GRANT USAGE ON SCHEMA shadow TO alice; "
                     "GRANT ALL ON public.users, shadow.users TO alice")

    @staticmethod
    def statement(rng):
        kinds = [(PATHS, 4), (ROLES, 2), (ENDS, 3), (OTHERS, 2), (SAVEPOINTS, 2)]
        pool = rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
        return rng.choice(pool)

    def request(self, rng, prepared):
        texts = [self.statement(rng) for _ in range(rng.randint(1, 4))]
        kind = rng.choice(("simple", "extended", "prepared"))
        if kind == "simple":
            return kind, texts, wire.query("; ".join(texts))
        batch = b""
        for text in texts:
            if kind == "extended":
                batch += wire.parse(text) + wire.bind() + wire.execute()
                continue
            # Prepared once, bound at every use (psycopg's automatic preparation, pgbench -M
            # prepared): followed at each Bind.
            if text not in prepared:
                prepared[text] = f"s{len(prepared)}_{rng.randrange(1 << 30)}"
                batch += wire.parse(text, name=prepared[text])
            batch += wire.bind(statement=prepared[text]) + wire.execute()
        return kind, texts, batch + wire.sync()

    def test_random_pipelines_leave_the_proxy_resolving_names_as_the_server(self):
        rng = random.Random(SEED)
        start = time.monotonic()
        rounds = 0
        self.addCleanup(self.pg.query, "TRUNCATE shadow.users, alice.users")
        prepared = {}  # text: the name the server has it prepared under
        with self.raw_session() as conn:
            while rounds < MAX_ROUNDS and time.monotonic() - start < MAX_SECONDS:
                rounds += 1
                count = rng.choice((1, 1, 2, 3))
                requests = []
                for _ in range(count):
                    # Behind a DISCARD ALL not answered yet a name may or may not still be
                    # there: the proxy holds a Bind of one it set aside until that answer.
                    requests.append(self.request(rng, prepared))
                insert = f"INSERT INTO users (id, status) VALUES ({rounds}, 'active')"
                # Half the rounds pipeline the probe right behind the requests, after a
                # ROLLBACK that ends whatever block they left open: the proxy must hold it until
                # their answers tell which table `users` is.
                pipelined = rng.random() < 0.5
                tail = wire.query("ROLLBACK") + wire.query(insert) if pipelined else b""
                conn.send(b"".join(wire_bytes for _, _, wire_bytes in requests) + tail)
                status = None
                for _ in requests:
                    answer = conn.read_until_ready()
                    status = answer[-1][1]
                shown = [(how, texts) for how, texts, _ in requests] + (
                    ["ROLLBACK, then the probe, pipelined"] if pipelined else [])
                if pipelined:
                    conn.read_until_ready()
                    probe = conn.read_until_ready()
                elif status != b"I":
                    conn.simple("ROLLBACK")
                # A DISCARD ALL the server skipped or refused left the statements: the next
                # rounds bind them by name, and the proxy must still follow their SETs.
                have = {row[0] for row in wire.rows(
                    conn.simple("SELECT name FROM pg_prepared_statements"))}
                prepared = {text: name for text, name in prepared.items() if name in have}
                where = wire.rows(conn.simple(WHERE))[0][0]
                if not pipelined:
                    probe = conn.simple(insert)
                context = f"seed {SEED}, round {rounds}: {shown}; users is {where}.users"
                self.assertEqual(wire.errors(probe), [], context)
                if where == "public":
                    self.assertEqual(self.direct("SELECT status, state FROM public.users "
                                                 f"WHERE id = {rounds}"),
                                     [("active", "active")], context)
                else:
                    self.assertEqual(self.direct(f"SELECT status FROM {where}.users "
                                                 f"WHERE id = {rounds}"), [("active",)], context)
        self.assertGreaterEqual(rounds, MIN_ROUNDS, f"seed {SEED}: only {rounds} rounds ran")


if __name__ == "__main__":
    unittest.main()
