#include "rewrite/json_tree.hpp"

#include <rapidjson/allocators.h>
#include <rapidjson/reader.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <memory_resource>
#include <new>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rewrite/sql_text.hpp"

namespace switchyard::rewrite::detail {
namespace {

using Descriptor = ProtobufCMessageDescriptor;
using Field = ProtobufCFieldDescriptor;

// JSON key -> field of one message type. The writer names a field by its proto name
// ("stmt_len") or by that name in lowerCamelCase ("targetList" for target_list), and a Node's
// payload by the payload's message name ("UpdateStmt", "A_Const").
struct FieldIndex {
  std::unordered_map<std::string_view, const Field*> by_key;
  // Both names of d->fields[i], for the in-order scan: the writer prints a message's fields in
  // the order of their numbers, which is the descriptor's, so the next key is usually a few
  // fields on. Empty for a Node (one key, out of ~250) and for a type whose names clash.
  std::vector<std::array<std::string_view, 2>> in_order;
  // The index of d->fields[i]'s message type (null for scalars): no look-up per object.
  std::vector<const FieldIndex*> children;
};

std::string lower_camel(std::string_view name) {
  std::string out;
  bool upper = false;
  for (char c : name) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

// Every message type reachable from ParseResult, built once from protobuf-c's descriptors.
class Schema {
 public:
  Schema() { add(&pg_query__parse_result__descriptor); }

  const FieldIndex* root() const {
    return &index_.find(&pg_query__parse_result__descriptor)->second;
  }

 private:
  void add(const Descriptor* d) {
    auto [slot, added] = index_.try_emplace(d);
    if (!added) {
      return;
    }
    FieldIndex& index = slot->second;  // unordered_map nodes stay put while it grows
    auto& by_key = index.by_key;
    std::vector<std::string_view> clashes;
    auto key = [&](std::string_view k, const Field* f) {
      auto [it, fresh] = by_key.emplace(k, f);
      if (!fresh && it->second != f) {
        clashes.push_back(k);
      }
    };
    for (unsigned i = 0; i < d->n_fields; ++i) {
      const Field* f = &d->fields[i];
      const std::string_view camel = names_.emplace_back(lower_camel(f->name));
      key(f->name, f);
      key(camel, f);
      index.in_order.push_back({f->name, camel});
      if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const auto* payload = static_cast<const Descriptor*>(f->descriptor);
        if (d == &pg_query__node__descriptor) {
          // The proto's own message name ("A_Const"); protobuf-c's short_name drops underscores.
          const std::string_view full = payload->name;
          key(full.substr(full.rfind('.') + 1), f);
        }
        add(payload);
        index.children.push_back(&index_.find(payload)->second);
      } else {
        index.children.push_back(nullptr);
      }
    }
    for (std::string_view k : clashes) {
      by_key.erase(k);  // a key that could mean two fields means neither: protobuf road
    }
    if (!clashes.empty() || d == &pg_query__node__descriptor) {
      index.in_order.clear();
    }
  }

  std::deque<std::string> names_;  // the camelCase keys point into these
  std::unordered_map<const Descriptor*, FieldIndex> index_;
};

const Schema& schema() {
  static const Schema instance;
  return instance;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_word_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// rapidjson SAX handler: each JSON object becomes a protobuf-c message of the type its field
// says, initialised as protobuf-c's unpack would, then filled key by key.
class Builder : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Builder> {
 public:
  Builder(const char* sql, UnpackArena& arena)
      : sql_(sql),
        sql_len_(std::strlen(sql)),
        arena_(arena),
        frames_(arena.resource()),
        items_(arena.resource()) {
    frames_.reserve(32);
    items_.reserve(64);
  }

  PgQuery__ParseResult* result() const { return frames_.empty() ? root_ : nullptr; }

  bool StartObject() {
    const Descriptor* d = &pg_query__parse_result__descriptor;
    const FieldIndex* fields = nullptr;
    const Field* f = nullptr;  // the parent's field that holds this object
    if (!frames_.empty()) {
      f = take_field();
      if (f == nullptr || f->type != PROTOBUF_C_TYPE_MESSAGE) {
        return false;
      }
      d = static_cast<const Descriptor*>(f->descriptor);
      fields =
          top().fields->children[static_cast<std::size_t>(f - top().message->descriptor->fields)];
    } else if (root_ == nullptr) {
      fields = schema().root();
    }
    auto* message = static_cast<ProtobufCMessage*>(arena_.allocate(d->sizeof_message));
    if (fields == nullptr || message == nullptr || d->message_init == nullptr) {
      return false;
    }
    d->message_init(message);
    if (frames_.empty()) {
      root_ = reinterpret_cast<PgQuery__ParseResult*>(message);
    } else if (top().in_array) {
      items_.push_back(message);
    } else {
      *reinterpret_cast<ProtobufCMessage**>(slot(f)) = message;
    }
    frames_.push_back(Frame{message, fields});
    return true;
  }

  bool Key(const char* key, rapidjson::SizeType length, bool) {
    Frame& t = top();
    if (t.field != nullptr) {
      return false;
    }
    const std::string_view k(key, length);
    const auto& in_order = t.fields->in_order;
    for (std::size_t i = t.next; i < in_order.size(); ++i) {
      if (in_order[i][0] == k || in_order[i][1] == k) {
        t.field = &t.message->descriptor->fields[i];
        t.next = i + 1;
        ++t.keys;
        return true;
      }
    }
    auto it = t.fields->by_key.find(k);
    if (it == t.fields->by_key.end()) {
      return false;
    }
    t.field = it->second;
    ++t.keys;
    return true;
  }

  bool EndObject(rapidjson::SizeType) {
    Frame& t = top();
    if (t.field != nullptr) {
      return false;
    }
    const Descriptor* d = t.message->descriptor;
    if (d == &pg_query__integer__descriptor && t.keys == 0) {
      // The writer prints an Integer only when it is positive: this one is 0 or negative.
      // Inside an A_Const the constant's text decides, once its location has been read.
      auto* integer = reinterpret_cast<PgQuery__Integer*>(t.message);
      frames_.pop_back();
      if (frames_.empty() || top().message->descriptor != &pg_query__a__const__descriptor ||
          top().in_array) {
        return false;
      }
      top().unresolved = integer;
      return true;
    }
    if (t.unresolved != nullptr &&
        !resolve(t.unresolved, reinterpret_cast<const PgQuery__AConst*>(t.message)->location)) {
      return false;
    }
    frames_.pop_back();
    return true;
  }

  bool StartArray() {
    if (frames_.empty()) {
      return false;
    }
    Frame& t = top();
    const Field* f = t.field;
    if (f == nullptr || t.in_array || f->label != PROTOBUF_C_LABEL_REPEATED ||
        f->type != PROTOBUF_C_TYPE_MESSAGE) {
      return false;  // repeated scalars only occur in analysed trees, never in a raw parse
    }
    t.in_array = true;
    t.array_start = items_.size();
    return true;
  }

  bool EndArray(rapidjson::SizeType) {
    Frame& t = top();
    if (!t.in_array) {
      return false;
    }
    const std::size_t count = items_.size() - t.array_start;
    void** out = nullptr;
    if (count > 0) {
      out = static_cast<void**>(arena_.allocate(count * sizeof(void*)));
      if (out == nullptr) {
        return false;
      }
      std::memcpy(out, items_.data() + t.array_start, count * sizeof(void*));
    }
    char* base = reinterpret_cast<char*>(t.message);
    *reinterpret_cast<std::size_t*>(base + t.field->quantifier_offset) = count;
    *reinterpret_cast<void***>(base + t.field->offset) = out;
    items_.resize(t.array_start);
    t.in_array = false;
    t.field = nullptr;
    return true;
  }

  bool Null() { return false; }

  bool Bool(bool value) {
    const Field* f = take_scalar();
    if (f == nullptr || f->type != PROTOBUF_C_TYPE_BOOL) {
      return false;
    }
    *reinterpret_cast<protobuf_c_boolean*>(slot(f)) = value ? 1 : 0;
    return true;
  }

  bool Int(int value) { return integer(value); }
  bool Uint(unsigned value) { return integer(value); }
  bool Int64(std::int64_t value) { return integer(value); }
  bool Uint64(std::uint64_t value) {
    return value <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) &&
           integer(static_cast<std::int64_t>(value));
  }

  bool Double(double value) {
    const Field* f = take_scalar();
    if (f == nullptr) {
      return false;
    }
    if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
      *reinterpret_cast<double*>(slot(f)) = value;
      return true;
    }
    if (f->type == PROTOBUF_C_TYPE_FLOAT) {
      *reinterpret_cast<float*>(slot(f)) = static_cast<float>(value);
      return true;
    }
    return false;
  }

  bool String(const char* text, rapidjson::SizeType length, bool) {
    const Field* f = take_scalar();
    if (f == nullptr) {
      return false;
    }
    if (f->type == PROTOBUF_C_TYPE_ENUM) {
      // rapidjson hands every string NUL-terminated.
      const ProtobufCEnumValue* v = protobuf_c_enum_descriptor_get_value_by_name(
          static_cast<const ProtobufCEnumDescriptor*>(f->descriptor), text);
      if (v == nullptr) {
        return false;
      }
      *reinterpret_cast<int*>(slot(f)) = v->value;
      return true;
    }
    if (f->type != PROTOBUF_C_TYPE_STRING || std::memchr(text, '\0', length) != nullptr) {
      return false;
    }
    auto* copy = static_cast<char*>(arena_.allocate(std::size_t{length} + 1));
    if (copy == nullptr) {
      return false;
    }
    std::memcpy(copy, text, length);
    copy[length] = '\0';
    *reinterpret_cast<char**>(slot(f)) = copy;
    return true;
  }

 private:
  struct Frame {
    ProtobufCMessage* message;
    const FieldIndex* fields;
    const Field* field = nullptr;  // named by the last key; its value comes next
    int keys = 0;
    std::size_t next = 0;  // where the in-order scan for the next key starts
    bool in_array = false;
    std::size_t array_start = 0;
    PgQuery__Integer* unresolved = nullptr;  // an A_Const's Integer the writer left empty
  };

  Frame& top() { return frames_.back(); }
  char* slot(const Field* f) { return reinterpret_cast<char*>(top().message) + f->offset; }

  // The field the next value fills: the pending key's, or the open array's. Marks a oneof
  // member as the one set.
  const Field* take_field() {
    Frame& t = top();
    const Field* f = t.field;
    if (f == nullptr) {
      return nullptr;
    }
    if (t.in_array) {
      return f;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      return nullptr;
    }
    if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
      auto* which = reinterpret_cast<std::uint32_t*>(reinterpret_cast<char*>(t.message) +
                                                     f->quantifier_offset);
      if (*which != 0) {
        return nullptr;
      }
      *which = f->id;
    } else if (f->label != PROTOBUF_C_LABEL_NONE) {
      return nullptr;  // proto3 has no other presence; anything else is not this schema
    }
    t.field = nullptr;
    return f;
  }

  const Field* take_scalar() {
    if (frames_.empty() || top().in_array) {
      return nullptr;
    }
    return take_field();
  }

  bool integer(std::int64_t value) {
    const Field* f = take_scalar();
    if (f == nullptr) {
      return false;
    }
    char* p = slot(f);
    switch (f->type) {
      case PROTOBUF_C_TYPE_INT32:
      case PROTOBUF_C_TYPE_SINT32:
      case PROTOBUF_C_TYPE_SFIXED32:
        if (value < std::numeric_limits<std::int32_t>::min() ||
            value > std::numeric_limits<std::int32_t>::max()) {
          return false;
        }
        *reinterpret_cast<std::int32_t*>(p) = static_cast<std::int32_t>(value);
        return true;
      case PROTOBUF_C_TYPE_UINT32:
      case PROTOBUF_C_TYPE_FIXED32:
        if (value < 0 || value > std::numeric_limits<std::uint32_t>::max()) {
          return false;
        }
        *reinterpret_cast<std::uint32_t*>(p) = static_cast<std::uint32_t>(value);
        return true;
      case PROTOBUF_C_TYPE_INT64:
      case PROTOBUF_C_TYPE_SINT64:
      case PROTOBUF_C_TYPE_SFIXED64:
        *reinterpret_cast<std::int64_t*>(p) = value;
        return true;
      case PROTOBUF_C_TYPE_UINT64:
      case PROTOBUF_C_TYPE_FIXED64:
        if (value < 0) {
          return false;
        }
        *reinterpret_cast<std::uint64_t*>(p) = static_cast<std::uint64_t>(value);
        return true;
      case PROTOBUF_C_TYPE_DOUBLE:
        *reinterpret_cast<double*>(p) = static_cast<double>(value);
        return true;
      case PROTOBUF_C_TYPE_FLOAT:
        *reinterpret_cast<float*>(p) = static_cast<float>(value);
        return true;
      default:
        return false;
    }
  }

  // The value of an integer constant the writer omitted, read from the statement: `0`, or a
  // negative literal whose location is its minus sign (the grammar folds `- 5` into -5 there).
  bool resolve(PgQuery__Integer* integer, int location) const {
    if (location < 0 || static_cast<std::size_t>(location) >= sql_len_) {
      return false;
    }
    const char* p = sql_ + location;
    const bool negative = *p == '-';
    if (negative) {
      ++p;
      while (is_space(*p)) {
        ++p;
      }
    }
    if (!is_digit(*p)) {
      return false;
    }
    std::int64_t magnitude = 0;
    for (; is_digit(*p); ++p) {
      magnitude = magnitude * 10 + (*p - '0');
      if (magnitude > std::int64_t{1} << 31) {
        return false;
      }
    }
    if (*p == '.' || is_word_char(*p)) {
      return false;  // 1.5, 1e5, 0x1f: not the integer literal this constant came from
    }
    const std::int64_t value = negative ? -magnitude : magnitude;
    if (value > 0 || value < std::numeric_limits<std::int32_t>::min()) {
      return false;  // a positive value would have been printed: the text is not the constant
    }
    integer->ival = static_cast<std::int32_t>(value);
    return true;
  }

  const char* sql_;
  std::size_t sql_len_;
  UnpackArena& arena_;
  std::pmr::vector<Frame> frames_;
  std::pmr::vector<void*> items_;  // elements of the open arrays, innermost last
  PgQuery__ParseResult* root_ = nullptr;
};

}  // namespace

PgQuery__ParseResult* tree_from_json(char* json, const char* sql, UnpackArena& arena) try {
  Builder builder(sql, arena);
  // rapidjson's own parse stack: in the arena too, so a parse allocates nothing on the heap
  // until the inline storage runs out.
  constexpr std::size_t kStackBytes = 1024;
  void* stack = arena.allocate(kStackBytes);
  if (stack == nullptr) {
    return nullptr;
  }
  rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator> pool(stack, kStackBytes);
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>,
                           rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>>
      reader(&pool);
  rapidjson::InsituStringStream stream(json);
  const rapidjson::ParseResult ok =
      reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag>(stream, builder);
  return ok ? builder.result() : nullptr;
} catch (const std::bad_alloc&) {
  return nullptr;  // the frames or the schema found no memory: the protobuf road reports it
}

}  // namespace switchyard::rewrite::detail
