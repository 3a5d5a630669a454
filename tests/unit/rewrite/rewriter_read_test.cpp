// Read rule tables (DESIGN §3 "reads"): configuration + SQL in, SQL out.

#include "rewrite_test_support.hpp"

namespace switchyard::rewrite::test {
namespace {

TEST(ReadRuleTest, RenameReadsNew) {
  run_table(users_migration(Writes::both, Reads::new_column),
            {
                {"SELECT status FROM users", "SELECT state AS status FROM users"},
                {"SELECT u.status FROM users u WHERE u.status = 'a'",
                 "SELECT u.state AS status FROM users u WHERE u.state = 'a'"},
                {"SELECT id FROM users WHERE status = $1", "SELECT id FROM users WHERE state = $1"},
            });
}

}  // namespace
}  // namespace switchyard::rewrite::test
