#pragma once

// Template bodies for pg_query_handles.hpp.

namespace switchyard::rewrite::detail {

inline bool is_statement_descriptor(const ProtobufCMessageDescriptor* d) {
  return d == &pg_query__select_stmt__descriptor || d == &pg_query__insert_stmt__descriptor ||
         d == &pg_query__update_stmt__descriptor || d == &pg_query__delete_stmt__descriptor;
}

template <typename VisitNode, typename VisitTyped>
void for_each_child(const ProtobufCMessage* msg, VisitNode&& visit, VisitTyped&& visit_typed) {
  if (msg == nullptr) {
    return;
  }
  const ProtobufCMessageDescriptor* desc = msg->descriptor;
  const char* base = reinterpret_cast<const char*>(msg);
  for (unsigned i = 0; i < desc->n_fields; ++i) {
    const ProtobufCFieldDescriptor& f = desc->fields[i];
    if (f.type != PROTOBUF_C_TYPE_MESSAGE) {
      continue;
    }
    if ((f.flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
      const auto which = *reinterpret_cast<const uint32_t*>(base + f.quantifier_offset);
      if (which != f.id) {
        continue;
      }
    }
    const auto* child_desc = static_cast<const ProtobufCMessageDescriptor*>(f.descriptor);
    auto handle = [&](const ProtobufCMessage* child) {
      if (child == nullptr) {
        return;
      }
      if (child_desc == &pg_query__node__descriptor) {
        visit(reinterpret_cast<const Node*>(child));
      } else if (is_statement_descriptor(child_desc)) {
        visit_typed(child);
      } else {
        for_each_child(child, visit, visit_typed);
      }
    };
    if (f.label == PROTOBUF_C_LABEL_REPEATED) {
      const auto n = *reinterpret_cast<const size_t*>(base + f.quantifier_offset);
      const auto* arr = *reinterpret_cast<ProtobufCMessage* const* const*>(base + f.offset);
      for (size_t k = 0; k < n; ++k) {
        handle(arr[k]);
      }
    } else {
      handle(*reinterpret_cast<ProtobufCMessage* const*>(base + f.offset));
    }
  }
}

}  // namespace switchyard::rewrite::detail
