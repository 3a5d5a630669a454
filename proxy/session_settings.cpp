// How a session's search_path and current_user are followed across its statements and
// transactions: SET, SET LOCAL, SET ROLE, savepoints, AND CHAIN, and the ReadyForQuery that
// tells whether a transaction kept or undid them. The rewrite resolves unqualified names with
// what this keeps (session_rewrite.cpp).

#include <spdlog/spdlog.h>

#include <algorithm>

#include "proxy/logging.hpp"
#include "proxy/session_rewrite.hpp"

namespace switchyard::proxy {

void SessionRewrite::apply(const rewrite::SearchPathChange& change, std::size_t answers_before) {
  SearchPath schemas = change.kind == rewrite::SearchPathChange::Kind::set
                           ? std::make_shared<const std::vector<std::string>>(change.schemas)
                           : startup_search_path_;
  if (change.local) {
    local_search_path_ = true;
    local_readies_ = answers_before;
  } else {
    change_uncommitted(answers_before);
    session_search_path_ = schemas;
    ++changes_.path;
  }
  spdlog::debug("event=search_path_changed database={} local={} schemas={}", log_value(database_),
                change.local, schemas->size());
  set_search_path(*schemas);
}

void SessionRewrite::change_uncommitted(std::size_t answers_before) {
  if (!uncommitted_) {
    committed_search_path_ = session_search_path_;
    if (roles_) {
      roles_->committed = roles_->session;
    }
    uncommitted_ = true;
  } else if (answers_before > readies_to_skip_) [[unlikely]] {
    // The earlier request's ReadyForQuery, or one of a request between, may end its
    // transaction apart from this change's.
    add_point(readies_to_skip_, KeptPoint::Until::request_end);
    kept_->back().requests_between = answers_before - readies_to_skip_ - 1;
  }
  readies_to_skip_ = answers_before;
}

void SessionRewrite::add_point(std::size_t readies, KeptPoint::Until until,
                               std::uint64_t bind_answer, std::size_t completes) {
  if (!kept_) {
    kept_ = std::make_unique<std::vector<KeptPoint>>();
  }
  kept_->push_back(KeptPoint{session_search_path_,
                             roles_ ? std::optional<Roles>(roles_->session) : std::nullopt,
                             changes_, readies, until, bind_answer, completes});
}

void SessionRewrite::note_end_bound(bool rollback, std::uint64_t bind_answer,
                                    std::size_t answers_before) {
  add_point(answers_before,
            rollback ? KeptPoint::Until::bound_rollback : KeptPoint::Until::bound_commit,
            bind_answer);
}

void SessionRewrite::keep(const KeptPoint& point) {
  if (!uncommitted_) {
    return;  // nothing left to undo
  }
  committed_search_path_ = point.session;
  if (roles_) {
    roles_->committed = point.roles ? *point.roles : Roles{roles_->login, {}};
  }
  spdlog::debug("event=search_path_committed_in_batch database={} schemas={}", log_value(database_),
                point.session->size());
}

void SessionRewrite::undo_before(const ChangeCounts& at) {
  if (!uncommitted_) {
    return;
  }
  // A SET sent later replaces the value whatever this transaction did; without one, the value
  // goes back to what was committed: in force now, and in the points that took it.
  if (changes_.path == at.path) {
    session_search_path_ = committed_search_path_;
    if (!local_search_path_) {
      set_search_path(*session_search_path_);
    }
  }
  if (roles_) {
    roles_->session = undone_roles(roles_->session, changes_, at);
    if (!roles_->local) {
      roles_->now = roles_->session;
      follow_roles();
    }
  }
  undo_in_points(at);
  spdlog::debug("event=search_path_rolled_back_before_later_request database={} schemas={}",
                log_value(database_), session_search_path_->size());
}

SessionRewrite::Roles SessionRewrite::undone_roles(Roles roles, const ChangeCounts& now,
                                                   const ChangeCounts& at) const {
  if (now.session_user == at.session_user) {
    roles.session_user = roles_->committed.session_user;
  }
  if (now.role == at.role) {
    roles.role = roles_->committed.role;
  }
  return roles;
}

void SessionRewrite::undo_in_points(const ChangeCounts& at) {
  if (!kept_) {
    return;
  }
  for (KeptPoint& p : *kept_) {
    if (p.counts.path == at.path) {
      p.session = committed_search_path_;
    }
    if (roles_) {
      p.roles = undone_roles(p.roles ? *p.roles : Roles{roles_->login, {}}, p.counts, at);
    }
  }
}

void SessionRewrite::resolve_point(std::size_t index, bool kept) {
  const KeptPoint point = (*kept_)[index];
  kept_->erase(kept_->begin() + static_cast<std::ptrdiff_t>(index));
  if (kept) {
    keep(point);
  } else {
    undo_before(point.counts);
  }
}

void SessionRewrite::follow_points(std::string_view tag, std::uint64_t resolved) {
  using Until = KeptPoint::Until;
  // A COMMIT of a failed transaction answers ROLLBACK.
  const bool committed = tag == "COMMIT" || tag == "DISCARD ALL";
  const bool ended = committed || tag == "ROLLBACK";
  bool bound_found = false;
  std::vector<KeptPoint>& points = *kept_;
  for (std::size_t i = 0; i < points.size();) {
    KeptPoint& p = points[i];
    if (p.readies > 0 || p.until == Until::request_end) {
      ++i;  // a later request's, or told by a ReadyForQuery
      continue;
    }
    if (p.until == Until::text_commit || p.until == Until::text_rollback) {
      if (p.completes > 0) {
        --p.completes;  // a statement before the step's
        ++i;
        continue;
      }
    } else if (!ended || bound_found || p.bind_answer >= resolved) {
      ++i;  // not the oldest bound one whose Bind is answered: the server runs in order
      continue;
    } else {
      bound_found = true;
    }
    if (ended) {
      resolve_point(i, committed);
    } else {
      points.erase(points.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

void SessionRewrite::drop_points_skipped(std::uint64_t resolved) {
  // The error answers the statement's Bind or Execute, or one before them in their batch (the
  // server skips the rest up to the Sync); or a statement of the text being answered, whose
  // statements after it never run.
  using Until = KeptPoint::Until;
  std::erase_if(*kept_, [&](const KeptPoint& p) {
    if (p.until == Until::bound_commit || p.until == Until::bound_rollback) {
      return p.bind_answer <= resolved;
    }
    return p.until != Until::request_end && p.readies == 0;
  });
}

void SessionRewrite::kept_on_ready(protocol::TransactionStatus status, bool rolled_back) {
  std::vector<KeptPoint>& points = *kept_;
  for (std::size_t i = 0; i < points.size();) {
    KeptPoint& p = points[i];
    if (p.readies > 0) {
      --p.readies;  // an earlier request's end
      ++i;
      continue;
    }
    // The point's request ends: a COMMIT not answered by now never ran.
    if (p.until == KeptPoint::Until::request_end && status == protocol::TransactionStatus::idle) {
      resolve_point(i, !rolled_back);
    } else if (p.until == KeptPoint::Until::request_end && p.requests_between > 0) {
      --p.requests_between;  // its transaction goes on into the next request, sent before
      ++i;
    } else {
      points.erase(points.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  if (kept_->empty()) {
    kept_.reset();
  }
}

void SessionRewrite::apply(const rewrite::TransactionStep& step, std::size_t answers_before,
                           bool failed) {
  using Kind = rewrite::TransactionStep::Kind;
  if (step.kind == Kind::path) {
    apply(step.path, answers_before);
    return;
  }
  if (step.kind == Kind::commit_chain || step.kind == Kind::rollback_chain ||
      step.kind == Kind::commit || step.kind == Kind::rollback) {
    savepoints_.reset();
    end_transaction(step.kind == Kind::rollback_chain || step.kind == Kind::rollback || failed);
    return;
  }
  if (step.kind == Kind::define) {
    if (failed) {
      return;  // the server refuses it in a failed transaction
    }
    if (!savepoints_) {
      savepoints_ = std::make_unique<Savepoints>();
    }
    Savepoint taken{step.name,
                    session_search_path_,
                    local_search_path_
                        ? std::make_shared<const std::vector<std::string>>(context_.search_path)
                        : session_search_path_,
                    local_search_path_,
                    std::nullopt,
                    answers_before};
    if (roles_) {
      taken.roles = *roles_;
    }
    savepoints_->taken.push_back(std::move(taken));
    return;
  }
  if (!savepoints_held()) {
    return;
  }
  // The latest savepoint of the name: a name taken again hides the earlier one.
  std::vector<Savepoint>& taken = savepoints_->taken;
  auto found = std::find_if(taken.rbegin(), taken.rend(),
                            [&](const Savepoint& s) { return s.name == step.name; });
  if (found == taken.rend()) {
    return;  // not one this session saw taken: the server fails the statement
  }
  auto kept = found.base();  // one past the savepoint
  if (step.kind == Kind::release) {
    taken.erase(kept - 1, taken.end());  // and the later ones with it
    return;
  }
  // ROLLBACK TO keeps the savepoint and ends the later ones. What it brings back is a change
  // of this request's, undone with its transaction as a SET is.
  taken.erase(kept, taken.end());
  change_uncommitted(answers_before);
  const Savepoint& back = taken.back();
  session_search_path_ = back.session;
  ++changes_.path;
  ++changes_.role;
  ++changes_.session_user;
  local_search_path_ = back.local;
  if (roles_) {
    const std::string login = roles_->login;
    if (back.roles) {
      roles_->now = back.roles->now;
      roles_->session = back.roles->session;
      roles_->local = back.roles->local;
    } else {
      roles_->now = roles_->session = Roles{login, {}};
      roles_->local = false;
    }
    context_.user = roles_->now.current();
  }
  spdlog::debug("event=search_path_rolled_back_to_savepoint database={} schemas={}",
                log_value(database_), back.now->size());
  set_search_path(*back.now);
}

void SessionRewrite::follow_as_answered(std::vector<rewrite::TransactionStep> steps,
                                        std::vector<rewrite::RoleChange> roles,
                                        std::size_t answers_before, bool failed) {
  answered_ = std::make_unique<AnsweredSteps>();
  answered_->steps = std::move(steps);
  answered_->roles = std::move(roles);
  answered_->readies_before = answers_before;
  answered_->failed_before = failed;
}

void SessionRewrite::follow_answered(std::string_view tag) {
  AnsweredSteps& answered = *answered_;
  const std::size_t statement = answered.completes++;
  using Kind = rewrite::TransactionStep::Kind;
  for (auto next = answered.next_due(statement); next != AnsweredSteps::Next::none;
       next = answered.next_due(statement)) {
    if (next == AnsweredSteps::Next::role) {
      apply(answered.roles[answered.next_role++], 0);
      continue;
    }
    const rewrite::TransactionStep& step = answered.steps[answered.next++];
    // The statement ran: a SAVEPOINT was taken; a COMMIT answered ROLLBACK ended a failed
    // transaction, undoing its SETs.
    const bool ended_failed = (step.kind == Kind::commit_chain || step.kind == Kind::commit) &&
                              step.statement == statement && tag == "ROLLBACK";
    apply(step, 0, ended_failed);
  }
}

void SessionRewrite::settle_answered() {
  const std::unique_ptr<AnsweredSteps> answered = std::move(answered_);
  const std::size_t steps_left = answered->steps.size() - answered->next;
  const std::size_t roles_left = answered->roles.size() - answered->next_role;
  if (answered->error) {
    if (steps_left + roles_left > 0) {
      spdlog::debug("event=transaction_steps_not_run database={} steps={}", log_value(database_),
                    steps_left + roles_left);
    }
    return;
  }
  // Answered without an error, or asked before the answer came: taken as run, in the order of
  // the text, as when followed as answered. A plain COMMIT or ROLLBACK among them is left to
  // its answer: a point counts the text's CommandCompletes up to it.
  const std::size_t before = answered->readies_before;
  using Kind = rewrite::TransactionStep::Kind;
  constexpr std::size_t kEveryStatement = SIZE_MAX;
  for (auto due = answered->next_due(kEveryStatement); due != AnsweredSteps::Next::none;
       due = answered->next_due(kEveryStatement)) {
    if (due == AnsweredSteps::Next::role) {
      apply(answered->roles[answered->next_role++], before);
      continue;
    }
    const rewrite::TransactionStep& next = answered->steps[answered->next++];
    if (!rewrite::ends_plainly(next.kind)) {
      apply(next, before, answered->failed_before);
    } else if (uncommitted_) {  // else nothing to keep or undo
      add_point(before,
                next.kind == Kind::commit ? KeptPoint::Until::text_commit
                                          : KeptPoint::Until::text_rollback,
                0, next.statement - answered->completes);
    }
  }
}

void SessionRewrite::apply(const rewrite::RoleChange& change, std::size_t answers_before) {
  if (!roles_) {
    // No role changed before: context_.user is still the login user.
    roles_ = std::make_unique<RoleState>(context_.user);
  }
  // A SET after a SET LOCAL in the transaction replaces both, as for any setting.
  Roles roles = roles_->now;
  if (change.session) {
    roles.session_user = change.role.empty() ? roles_->login : change.role;
    roles.role.clear();
  } else {
    roles.role = change.role;
  }
  if (change.local) {
    roles_->local = true;
    local_readies_ = answers_before;
  } else {
    change_uncommitted(answers_before);
    roles_->session = roles;
    ++changes_.role;
    changes_.session_user += change.session ? 1 : 0;
  }
  roles_->now = std::move(roles);
  follow_roles();
}

void SessionRewrite::follow_roles() {
  if (context_.user == roles_->now.current()) {
    return;
  }
  context_.user = roles_->now.current();
  spdlog::debug("event=current_user_changed database={}", log_value(database_));
  set_search_path(context_.search_path);  // the cache key and epoch change with "$user"
}

void SessionRewrite::on_ready(protocol::TransactionStatus status, bool rolled_back) {
  if (answered_) [[unlikely]] {
    if (answered_->readies_before > 0) {
      --answered_->readies_before;  // an earlier request's answer
    } else {
      settle_answered();
    }
  }
  if (reading_readies_ > 0 && --reading_readies_ == 0) [[unlikely]] {
    // The change's answer is in, with its ParameterStatus before it.
    reading_.settings_in_flight = false;
    reading_usual_ = reading_.usual();
  }
  if (reading_readies_ == 0 && status == protocol::TransactionStatus::idle) {
    reading_changed_in_transaction_ = false;  // every change is answered and nothing can undo it
  }
  if (local_search_path_ || (roles_ && roles_->local)) [[unlikely]] {
    if (local_readies_ > 0) {
      --local_readies_;  // the end of a request sent before the SET LOCAL
    } else if (status == protocol::TransactionStatus::idle) {
      end_local();  // also when later requests are on their way: at_boundary() is not
    }
  }
  if (savepoints_) [[unlikely]] {
    std::vector<Savepoint>& taken = savepoints_->taken;
    if (status == protocol::TransactionStatus::idle) {
      // Those of the requests answered by now ended with their transaction; those of requests
      // sent behind them belong to the next.
      std::erase_if(taken, [](const Savepoint& s) { return s.readies == 0; });
    }
    for (Savepoint& s : taken) {
      s.readies -= s.readies > 0 ? 1 : 0;
    }
    if (taken.empty()) {
      savepoints_.reset();
    }
  }
  if (kept_) [[unlikely]] {
    kept_on_ready(status, rolled_back);
  }
  if (!uncommitted_) {
    return;
  }
  if (readies_to_skip_ > 0) {
    --readies_to_skip_;  // the end of an earlier request, not of the change's transaction
    return;
  }
  if (status != protocol::TransactionStatus::idle) {
    return;  // the transaction block goes on
  }
  uncommitted_ = false;
  if (!rolled_back) {
    return;
  }
  // Points of requests sent since, with nothing changed after the undone SETs, took them.
  undo_in_points(changes_);
  session_search_path_ = std::move(committed_search_path_);
  local_search_path_ = false;  // the transaction is over, so is any SET LOCAL
  if (roles_) {
    roles_->session = std::move(roles_->committed);
    roles_->now = roles_->session;
    roles_->local = false;
    context_.user = roles_->now.current();
  }
  spdlog::debug("event=search_path_rolled_back database={} schemas={}", log_value(database_),
                session_search_path_->size());
  set_search_path(*session_search_path_);
}

void SessionRewrite::end_local() {
  if (local_search_path_) {
    local_search_path_ = false;
    set_search_path(*session_search_path_);
  }
  if (roles_ && roles_->local) {
    roles_->local = false;
    roles_->now = roles_->session;
    follow_roles();
  }
}

void SessionRewrite::end_transaction(bool rolled_back) {
  kept_.reset();  // what was sent before is decided here
  if (uncommitted_) {
    uncommitted_ = false;
    readies_to_skip_ = 0;
    if (rolled_back) {
      session_search_path_ = committed_search_path_;
      if (roles_) {
        roles_->session = roles_->committed;
      }
    }
  }
  local_search_path_ = false;
  if (roles_) {
    roles_->committed = roles_->session;
    roles_->now = roles_->session;
    roles_->local = false;
    context_.user = roles_->now.current();
  }
  spdlog::debug("event=transaction_chained database={} rolled_back={} schemas={}",
                log_value(database_), rolled_back, session_search_path_->size());
  set_search_path(*session_search_path_);
}

}  // namespace switchyard::proxy
