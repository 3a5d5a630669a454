#pragma once

// A text this long (a bulk INSERT of thousands of rows) takes the rewrite tens of milliseconds
// to seconds: it is rewritten on a pool of its own (ProxyState::long_rewrite_pool), so that the
// other sessions of its worker go on meanwhile (DESIGN §7). Shorter texts stay on the worker,
// where they cost no hand-over.

#include <cstddef>
#include <memory>
#include <string>

#include "proxy/catalog_cache.hpp"
#include "proxy/proxy_state.hpp"
#include "rewrite/result.hpp"
#include "rewrite/rewriter.hpp"

namespace switchyard::proxy {

inline constexpr std::size_t kOffThreadRewriteBytes = std::size_t{1} << 20;

/// The text, handed back so the session need not keep a copy of its own, and its rewrite.
struct LongRewriteDone {
  std::string sql;
  std::shared_ptr<const rewrite::RewriteResult> result;
  std::string catalog_error;  // a look-up the rewrite needed failed
  CatalogWants catalog_wants;
  bool catalog_connect_failed = false;
};

/// The pool's job: the rewrite of `sql`, reading the catalog first when it must.
struct LongRewrite {
  std::shared_ptr<const Snapshot> snapshot;  // keeps `rules` alive
  const DatabaseRewrite* rules;
  rewrite::SessionContext context;
  std::string database;
  std::string sql;
  LongRewriteDone operator()();
};

}  // namespace switchyard::proxy
