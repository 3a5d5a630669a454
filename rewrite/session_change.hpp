#pragma once

#include <cstdint>
#include <string_view>

#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite {

/// Whether `sql` may change what the proxy follows of a session: its search_path and
/// current_user (SET, RESET, DISCARD ALL; SAVEPOINT, RELEASE and ROLLBACK TO, which decide what
/// a rollback to a savepoint restores; COMMIT, END, ROLLBACK and ABORT AND CHAIN, which end a
/// transaction unannounced) or its prepared statements (DEALLOCATE, DISCARD ALL, and PREPARE
/// and EXECUTE in SQL, also under EXPLAIN and CREATE TABLE AS). Every statement of a session
/// asks, so a text of one statement is judged by its first word, once for all these questions;
/// the precise answers, deallocation(), search_path_change(), role_changes(),
/// transaction_steps() and sql_prepared(), parse the text and are asked only of the texts this
/// lets through. False means certainly not.
bool may_change_session(std::string_view sql);
/// The same, with the text's sole_statement_verb() already known.
bool may_change_session(std::string_view sql, detail::SoleVerb verb);

/// How a statement run in an extended-protocol batch ends the transaction at once, whatever
/// fails after it before the Sync: `commit` for a plain COMMIT or END (no AND CHAIN, not COMMIT
/// PREPARED) and DISCARD ALL (which commits the implicit transaction it runs in), `rollback`
/// for a plain ROLLBACK or ABORT (not ROLLBACK TO, not ROLLBACK PREPARED).
enum class TransactionEnd : std::uint8_t { none, commit, rollback };
/// `verb` is the text's sole_statement_verb(); a text of several statements ends none.
TransactionEnd transaction_end(std::string_view sql, detail::SoleVerb verb);

}  // namespace switchyard::rewrite
