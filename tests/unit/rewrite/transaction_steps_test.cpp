// transaction_steps: statement text in, its savepoint, AND CHAIN and inner COMMIT/ROLLBACK
// statements and the search_path changes between them out, in order.

#include "rewrite/transaction_steps.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard::rewrite {
namespace {

// Each step written as "define a", "release a", "rollback_to a", "path x,y" (a SET),
// "path local x" (a SET LOCAL) or "path reset".
std::string shown(const TransactionStep& step) {
  switch (step.kind) {
    case TransactionStep::Kind::define:
      return "define " + step.name;
    case TransactionStep::Kind::release:
      return "release " + step.name;
    case TransactionStep::Kind::rollback_to:
      return "rollback_to " + step.name;
    case TransactionStep::Kind::commit_chain:
      return "commit_chain";
    case TransactionStep::Kind::rollback_chain:
      return "rollback_chain";
    case TransactionStep::Kind::commit:
      return "commit";
    case TransactionStep::Kind::rollback:
      return "rollback";
    case TransactionStep::Kind::path:
      break;
  }
  if (step.path.kind == SearchPathChange::Kind::reset) {
    return "path reset";
  }
  std::string out = step.path.local ? "path local " : "path ";
  for (std::size_t i = 0; i < step.path.schemas.size(); ++i) {
    out += (i == 0 ? "" : ",") + step.path.schemas[i];
  }
  return out;
}

struct StepCase {
  const char* sql;
  std::vector<std::string> steps;
};

TEST(TransactionStepsTest, Table) {
  const StepCase cases[] = {
      {"SELECT 1", {}},
      {"ROLLBACK", {}},
      {"COMMIT", {}},
      {"SET search_path = a", {}},  // no savepoint: search_path_change() tells
      {"SELECT 'savepoint'", {}},
      {"SAVEPOINT a", {"define a"}},
      {"savepoint \"Mixed\"", {"define Mixed"}},
      {"SAVEPOINT Folded", {"define folded"}},
      {"RELEASE SAVEPOINT a", {"release a"}},
      {"RELEASE a", {"release a"}},
      {"ROLLBACK TO SAVEPOINT a", {"rollback_to a"}},
      {"ROLLBACK TO a", {"rollback_to a"}},
      {"rollback to savepoint a", {"rollback_to a"}},
      {"SET search_path = x; SAVEPOINT a; SET search_path = y, z",
       {"path x", "define a", "path y,z"}},
      {"SAVEPOINT a; SET LOCAL search_path = x; ROLLBACK TO a",
       {"define a", "path local x", "rollback_to a"}},
      {"SET search_path = x; SET search_path = y; RELEASE a", {"path x", "path y", "release a"}},
      // Not the net change: the SET holds after the transaction, the SET LOCAL does not.
      {"SET search_path = x; SET LOCAL search_path = y; SAVEPOINT a",
       {"path x", "path local y", "define a"}},
      {"SAVEPOINT a; RESET search_path", {"define a", "path reset"}},
      {"SAVEPOINT a; DISCARD ALL", {"define a", "path reset"}},
      {"BEGIN; SAVEPOINT a; SELECT 1; COMMIT", {"define a", "commit"}},
      {"COMMIT AND NO CHAIN", {}},
      {"COMMIT AND CHAIN", {"commit_chain"}},
      {"end and chain", {"commit_chain"}},
      {"ROLLBACK AND CHAIN", {"rollback_chain"}},
      {"ABORT AND CHAIN", {"rollback_chain"}},
      {"SET LOCAL search_path = x; COMMIT AND CHAIN; SET search_path = y",
       {"path local x", "commit_chain", "path y"}},
      {"SAVEPOINT (", {}},  // bad SQL: the server refuses it and changes nothing
      // A COMMIT or ROLLBACK with a statement after it: the ReadyForQuery comes after that one.
      {"BEGIN; SET search_path = x; COMMIT", {}},
      {"BEGIN; SET search_path = x; COMMIT; SELECT 1/0", {"path x", "commit"}},
      {"END; SELECT 1", {"commit"}},
      {"ROLLBACK; SELECT 1;", {"rollback"}},
      {"abort; DEALLOCATE ALL", {"rollback"}},
      {"BEGIN; SET search_path = x; COMMIT; BEGIN; SET search_path = y; ROLLBACK",
       {"path x", "commit", "path y", "rollback"}},
      {"SAVEPOINT a; COMMIT", {"define a", "commit"}},
      {"SELECT 'commit; x'", {}},
  };
  for (const StepCase& c : cases) {
    std::vector<std::string> got;
    for (const TransactionStep& step : transaction_steps(c.sql)) {
      got.push_back(shown(step));
    }
    EXPECT_EQ(got, c.steps) << c.sql;
  }
}

// The statement each step is answered by: the server sends one CommandComplete per statement
// it runs, so a step whose statement's CommandComplete never came did not happen.
struct StatementCase {
  const char* sql;
  std::vector<std::size_t> statements;
};

TEST(TransactionStepsTest, EachStepKnowsItsStatement) {
  const StatementCase cases[] = {
      {"COMMIT AND CHAIN", {0}},
      {"BEGIN; SET search_path = x; SELECT 1; COMMIT AND CHAIN; SET search_path = y; SELECT 2",
       {1, 3, 4}},
      // Each SET is a step answered on its own.
      {"SET search_path = x; SELECT 1; SET search_path = y; SAVEPOINT a", {0, 2, 3}},
      {"SAVEPOINT a; SELECT 1; ROLLBACK TO a; SELECT 2; RELEASE a", {0, 2, 4}},
      {"SELECT 1;; SELECT 2; ROLLBACK AND CHAIN", {2}},  // no statement between the ;;
      {"BEGIN; SET search_path = x; COMMIT; SELECT 1/0", {1, 2}},
  };
  for (const StatementCase& c : cases) {
    std::vector<std::size_t> got;
    for (const TransactionStep& step : transaction_steps(c.sql)) {
      got.push_back(step.statement);
    }
    EXPECT_EQ(got, c.statements) << c.sql;
  }
}

}  // namespace
}  // namespace switchyard::rewrite
