#pragma once

// Statements of an OLTP application on the pgbench schema, with the migration the proxy
// benchmark uses (pgbench_accounts.abalance -> abalance_v2, writes = both, reads = new).

#include <array>

#include "rewrite/rewriter.hpp"

namespace switchyard::bench {

inline rewrite::Migration accounts_migration() {
  rewrite::Migration m;
  m.name = "accounts";
  m.schema = "public";
  m.table = "pgbench_accounts";
  m.old_column = "abalance";
  m.new_column = "abalance_v2";
  m.writes = rewrite::Writes::both;
  m.reads = rewrite::Reads::new_column;
  m.old_type = "integer";
  m.new_type = "integer";
  return m;
}

inline rewrite::StaticCatalog pgbench_catalog() {
  rewrite::StaticCatalog c;
  c.add({"public", "pgbench_accounts"}, {"aid", "bid", "abalance", "filler", "abalance_v2"});
  c.add({"public", "pgbench_branches"}, {"bid", "bbalance", "filler"});
  c.add({"public", "pgbench_tellers"}, {"tid", "bid", "tbalance", "filler"});
  c.add({"public", "pgbench_history"}, {"tid", "bid", "aid", "delta", "mtime", "filler"});
  for (const char* t :
       {"pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history"}) {
    c.mark_complete(t);
  }
  return c;
}

/// Statements that name pgbench_accounts (each is rewritten or checked by the engine).
inline constexpr std::array kTouching = {
    "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
    "SELECT abalance FROM pgbench_accounts WHERE aid = $1;",
    "UPDATE pgbench_accounts SET abalance = abalance + -2731 WHERE aid = 48213;",
    "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;",
    "INSERT INTO pgbench_accounts (aid, bid, abalance, filler) VALUES ($1, $2, $3, $4)",
    "SELECT aid, bid, abalance FROM pgbench_accounts WHERE bid = $1 ORDER BY abalance DESC "
    "LIMIT 10",
    "SELECT a.aid, a.abalance, b.bbalance FROM pgbench_accounts a JOIN pgbench_branches b ON "
    "a.bid = b.bid WHERE a.aid = $1",
    "DELETE FROM pgbench_accounts WHERE aid = $1",
    "SELECT * FROM pgbench_accounts WHERE aid = $1",
    "SELECT count(*) FROM pgbench_accounts WHERE abalance > 0",
    "UPDATE pgbench_accounts SET abalance = $1, filler = $2 WHERE aid = $3 RETURNING abalance",
    "INSERT INTO pgbench_accounts (aid, bid, abalance) VALUES ($1, $2, $3) ON CONFLICT (aid) "
    "DO UPDATE SET abalance = EXCLUDED.abalance",
    "SELECT bid, sum(abalance) FROM pgbench_accounts GROUP BY bid HAVING sum(abalance) > $1",
    "/* app=checkout */ SELECT abalance, filler FROM pgbench_accounts WHERE aid = ANY($1) FOR "
    "UPDATE",
    "UPDATE pgbench_accounts SET filler = $1 WHERE aid = $2",
};

/// Statements of the same application that do not name a mapped table (the fast path).
inline constexpr std::array kPassThrough = {
    "BEGIN;",
    "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;",
    "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;",
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, "
    "CURRENT_TIMESTAMP);",
    "END;",
    "SELECT t.tid, t.tbalance, b.bbalance FROM pgbench_tellers t JOIN pgbench_branches b USING "
    "(bid) WHERE t.tid = $1 AND b.bbalance > $2 ORDER BY t.tbalance DESC LIMIT 20",
};

}  // namespace switchyard::bench
