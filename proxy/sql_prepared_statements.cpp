#include "proxy/sql_prepared_statements.hpp"

#include <algorithm>
#include <utility>

namespace switchyard::proxy {

SqlPreparedStatements::ByName& SqlPreparedStatements::by_name() {
  if (!by_name_) {
    by_name_ = std::make_unique<ByName>();
  }
  return *by_name_;
}

std::vector<SqlPreparedStatements::Text>* SqlPreparedStatements::find(const std::string& name) {
  if (!by_name_) {
    return nullptr;
  }
  auto it = by_name_->find(name);
  return it == by_name_->end() ? nullptr : &it->second;
}

void SqlPreparedStatements::prepared(const std::string& name, std::string_view text,
                                     std::string_view sent, std::string_view prepare,
                                     std::uint64_t epoch,
                                     std::shared_ptr<const rewrite::RewriteResult> uses) {
  auto [entry, fresh] = by_name().try_emplace(name);
  add_text(
      entry->second, fresh,
      Text{std::string(text), std::string(sent), std::string(prepare), epoch, 0, std::move(uses)});
}

void SqlPreparedStatements::add_text(std::vector<Text>& texts, bool fresh, Text text) {
  if (!fresh && texts.size() == 1 && texts.front().text.empty()) {
    return;  // none known
  }
  auto same = std::find_if(texts.begin(), texts.end(), [&](const Text& t) {
    return t.text == text.text && t.sent == text.sent;
  });
  if (same != texts.end()) {
    same->epoch = text.epoch;
    same->uses = std::move(text.uses);
  } else if (texts.size() == kMaxTexts) {
    // None is kept past this many, only the oldest epoch: the name is refused after a
    // flip until it is deallocated.
    const std::uint64_t oldest =
        std::min_element(texts.begin(), texts.end(), [](const Text& a, const Text& b) {
          return a.epoch < b.epoch;
        })->epoch;
    texts.assign(1, Text{{}, {}, {}, std::min(oldest, text.epoch), 0, nullptr});
  } else {
    texts.push_back(std::move(text));
  }
}

void SqlPreparedStatements::deallocation_sent(const std::string& name) {
  if (!aside_) {
    aside_ = std::make_unique<std::vector<SetAside>>();
  }
  SetAside& set = aside_->emplace_back();
  set.name = name;
  if (!by_name_) {
    return;
  }
  if (name.empty()) {
    for (auto& [named, texts] : *by_name_) {
      set.texts.emplace_back(named, std::move(texts));
    }
    by_name_->clear();
  } else if (auto it = by_name_->find(name); it != by_name_->end()) {
    set.texts.emplace_back(it->first, std::move(it->second));
    by_name_->erase(it);
  }
}

void SqlPreparedStatements::deallocation_answered(bool ran) {
  if (!aside_ || aside_->empty()) {
    return;
  }
  SetAside set = std::move(aside_->front());
  aside_->erase(aside_->begin());
  if (ran) {
    return;
  }
  for (auto& [name, texts] : set.texts) {
    auto later = std::find_if(aside_->begin(), aside_->end(),
                              [&](const SetAside& other) { return other.covers(name); });
    if (later != aside_->end()) {
      later->texts.emplace_back(std::move(name), std::move(texts));
      continue;
    }
    auto [entry, fresh] = by_name().try_emplace(std::move(name));
    // More texts than are kept: the placeholder stands for those under the name too.
    const bool none_known = texts.size() == 1 && texts.front().text.empty();
    if (!fresh && none_known) {
      for (const Text& text : entry->second) {
        texts.front().epoch = std::min(texts.front().epoch, text.epoch);
      }
    }
    if (fresh || none_known) {
      entry->second = std::move(texts);
      continue;
    }
    for (Text& text : texts) {
      add_text(entry->second, false, std::move(text));
    }
  }
}

const std::string* SqlPreparedStatements::sole_prepare(const std::string& name) {
  const std::vector<Text>* texts = find(name);
  if (texts == nullptr || texts->size() >= kMaxTexts) {
    return nullptr;
  }
  const std::string& prepare = texts->front().prepare;
  const bool shared = std::all_of(texts->begin(), texts->end(),
                                  [&](const Text& t) { return t.prepare == prepare; });
  return shared && !prepare.empty() ? &prepare : nullptr;
}

void SqlPreparedStatements::reprepare_sent(const std::string& name, std::string_view prepare,
                                           std::string sent, std::uint64_t epoch, std::uint32_t id,
                                           std::shared_ptr<const rewrite::RewriteResult> uses) {
  std::vector<Text>& texts = by_name()[name];
  auto same = std::find_if(texts.begin(), texts.end(),
                           [&](const Text& t) { return t.text == prepare && t.sent == sent; });
  if (same != texts.end()) {
    same->epoch = epoch;
    same->pending = id;
    same->uses = std::move(uses);
    return;
  }
  // Copied before push_back, which may move the text `prepare` views.
  std::string text(prepare);
  texts.push_back(Text{text, std::move(sent), std::move(text), epoch, id, std::move(uses)});
}

void SqlPreparedStatements::reprepare_answered(std::uint32_t id) {
  if (!by_name_) {
    return;
  }
  // One re-prepare may cover several names: those one text EXECUTEs.
  for (auto& [name, texts] : *by_name_) {
    auto it =
        std::find_if(texts.begin(), texts.end(), [id](const Text& t) { return t.pending == id; });
    if (it != texts.end()) {
      Text kept = std::move(*it);
      kept.pending = 0;
      texts.clear();
      texts.push_back(std::move(kept));
    }
  }
}

std::uint32_t SqlPreparedStatements::next_reprepare() {
  if (++reprepares_ == 0) {
    ++reprepares_;  // 0 is "none"
  }
  return reprepares_;
}

bool SqlPreparedStatements::older_than(const std::string& name, std::uint64_t now) const {
  if (!by_name_) {
    return false;
  }
  auto it = by_name_->find(name);
  return it != by_name_->end() && std::any_of(it->second.begin(), it->second.end(),
                                              [now](const Text& t) { return t.epoch != now; });
}

}  // namespace switchyard::proxy
