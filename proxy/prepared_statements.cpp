#include "proxy/prepared_statements.hpp"

#include <algorithm>

namespace switchyard::proxy {

PreparedStatements::SetAside* PreparedStatements::Aside::covering(std::string_view name) {
  auto it = std::find_if(sent.begin(), sent.end(),
                         [name](const SetAside& set) { return set.covers(name); });
  return it == sent.end() ? nullptr : &*it;
}

PreparedStatements::SetAside* PreparedStatements::Aside::numbered(std::uint32_t number) {
  auto it = std::find_if(sent.begin(), sent.end(),
                         [number](const SetAside& set) { return set.number == number; });
  return it == sent.end() ? nullptr : &*it;
}

void PreparedStatements::deallocation_sent(std::string_view name) {
  if (!aside_) {
    aside_ = std::make_unique<Aside>();
  }
  SetAside set;
  set.number = aside_->next_number++;
  if (aside_->next_number == kNotVoided) {
    aside_->next_number = kVoidedForGood + 1;
  }
  set.name.assign(name);
  if (name.empty()) {
    // Not set aside: a simple Query, which carries nearly every DISCARD ALL, drops it anyway.
    unnamed_.reset();
    set.statements.reserve(named_.size());
    for (auto& [named, stmt] : named_) {
      set.statements.emplace_back(named, std::move(stmt));
    }
    named_.clear();
  } else if (auto it = named_.find(name); it != named_.end()) {
    set.statements.emplace_back(it->first, std::move(it->second));
    named_.erase(it);
  }
  for (Pending& op : pending_) {
    if (op.voided_by == kNotVoided && set.covers(op.name)) {
      op.voided_by = set.number;
    }
  }
  aside_->sent.push_back(std::move(set));
}

void PreparedStatements::deallocation_answered(bool ran) {
  if (!aside_ || aside_->sent.empty()) {
    return;
  }
  SetAside set = std::move(aside_->sent.front());
  aside_->sent.pop_front();
  // Normally answered already: a Parse or Close sent before the deallocation is answered first.
  for (Pending& op : pending_) {
    if (op.voided_by == set.number) {
      const SetAside* later = ran ? nullptr : aside_->covering(op.name);
      op.voided_by = ran ? kVoidedForGood : later != nullptr ? later->number : kNotVoided;
    }
  }
  if (ran) {
    return;
  }
  for (auto& [name, stmt] : set.statements) {
    if (SetAside* later = aside_->covering(name)) {
      later->statements.emplace_back(std::move(name), std::move(stmt));
    } else {
      // A Parse of the name sent after the deallocation and done is newer (the server refuses
      // a Parse of a name it has, so that one could run only if the name was gone).
      named_.try_emplace(std::move(name), std::move(stmt));
    }
  }
}

void PreparedStatements::settle_set_aside(Pending op) {
  SetAside* set = aside_ ? aside_->numbered(op.voided_by) : nullptr;
  if (set == nullptr) {
    return;  // that deallocation ran: the name is gone
  }
  auto same = std::find_if(set->statements.begin(), set->statements.end(),
                           [&](const auto& entry) { return entry.first == op.name; });
  if (op.closes) {
    if (same != set->statements.end()) {
      set->statements.erase(same);  // gone whether or not the deallocation runs
    }
  } else if (same != set->statements.end()) {
    same->second = std::move(op.stmt);
  } else {
    set->statements.emplace_back(std::move(op.name), std::move(op.stmt));
  }
}

}  // namespace switchyard::proxy
