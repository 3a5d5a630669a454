#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace switchyard::rewrite {
struct RewriteResult;
}  // namespace switchyard::rewrite

namespace switchyard::proxy {

/// One session's statements prepared with SQL PREPARE, by name, and what the server may have
/// under each: usually one text. A PREPARE of a name the server has fails there (42P05) and the
/// server keeps what it has, so a PREPARE of a name known here adds a text rather than replacing
/// one; Switchyard's own re-prepare replaces them all once the server has answered it. Pure: no
/// I/O, no rewrite.
class SqlPreparedStatements {
 public:
  /// A text that prepared the name, as the client wrote it and as it was sent, its PREPARE
  /// statement alone, and the SessionRewrite::epoch it was rewritten under. An empty `text` stands
  /// for more texts than are kept: only the oldest of their epochs is known.
  struct Text {
    std::string text;
    std::string sent;
    std::string prepare;
    std::uint64_t epoch = 0;
    /// The re-prepare that makes this text the server's, until the server has answered it.
    std::uint32_t pending = 0;
    /// The rewrite whose migration uses each EXECUTE of it counts; null for most texts.
    std::shared_ptr<const rewrite::RewriteResult> uses;
  };
  /// Texts kept under one name.
  static constexpr std::size_t kMaxTexts = 8;

  bool empty() const { return (!by_name_ || by_name_->empty()) && (!aside_ || aside_->empty()); }
  /// A Close of `name` sent (the server's Close drops either kind).
  void erase(const std::string& name) {
    if (by_name_) {
      by_name_->erase(name);
    }
  }

  /// A DEALLOCATE of `name`, or a DEALLOCATE ALL or DISCARD ALL (`name` empty), sent: what it
  /// names is gone for the statements sent after it, and set aside until the server answers it.
  void deallocation_sent(const std::string& name);
  /// The server answered the oldest deallocation sent: `ran` when it ran it. One it skipped or
  /// refused leaves the texts it named: the names' again (beside a text a PREPARE sent since
  /// may have added), or a later deallocation's, which names them too.
  void deallocation_answered(bool ran);

  /// The texts under `name`; null when the name is not known.
  std::vector<Text>* find(const std::string& name);

  /// A PREPARE of `name` was sent; whether the server took it is not known.
  void prepared(const std::string& name, std::string_view text, std::string_view sent,
                std::string_view prepare, std::uint64_t epoch,
                std::shared_ptr<const rewrite::RewriteResult> uses = nullptr);

  /// The PREPARE statement all the texts under `name` share, when Switchyard may prepare the
  /// name again with it; null when they differ, are not known, or there is no room for one
  /// more.
  const std::string* sole_prepare(const std::string& name);

  /// Switchyard's re-prepare number `id` of `name` was sent: `prepare` rewritten into `sent`
  /// under `epoch`, whose EXECUTEs count `uses`. The server has it once it answers
  /// (reprepare_answered); until then it may still have any of the texts before.
  void reprepare_sent(const std::string& name, std::string_view prepare, std::string sent,
                      std::uint64_t epoch, std::uint32_t id,
                      std::shared_ptr<const rewrite::RewriteResult> uses = nullptr);
  /// The server answered re-prepare `id`: under its name it has that text only.
  void reprepare_answered(std::uint32_t id);
  /// A number for the next re-prepare, never 0.
  std::uint32_t next_reprepare();

  /// Whether the server may have, under `name`, a text of an epoch other than `now`.
  bool older_than(const std::string& name, std::uint64_t now) const;

 private:
  using ByName = std::unordered_map<std::string, std::vector<Text>>;
  ByName& by_name();
  // Adds `text` to those the server may have under a name, as a PREPARE sent does.
  static void add_text(std::vector<Text>& texts, bool fresh, Text text);

  // Texts a deallocation sent set aside until its answer.
  struct SetAside {
    std::string name;  // empty: all
    std::vector<std::pair<std::string, std::vector<Text>>> texts;

    bool covers(std::string_view named) const { return name.empty() || name == named; }
  };

  // Made at the first PREPARE: few sessions use SQL PREPARE, and an empty map is 56 bytes of
  // every session.
  std::unique_ptr<ByName> by_name_;
  // Made at the first deallocation sent.
  std::unique_ptr<std::vector<SetAside>> aside_;
  std::uint32_t reprepares_ = 0;
};

}  // namespace switchyard::proxy
