#pragma once

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

/// Whether `sql` is a plain COMMIT or END (no AND CHAIN, not COMMIT PREPARED) or DISCARD ALL:
/// run in an extended-protocol batch, it makes the SETs sent before it final at once (DISCARD
/// ALL commits the implicit transaction it runs in), whatever fails after it before the Sync.
/// `verb` is the text's sole_statement_verb(); a text of several statements is not one.
bool commits_at_once(std::string_view sql, detail::SoleVerb verb);

}  // namespace switchyard::rewrite
