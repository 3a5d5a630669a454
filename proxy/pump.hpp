#pragma once

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

#include "protocol/framer.hpp"
#include "protocol/message_writer.hpp"
#include "proxy/buffer_pool.hpp"
#include "proxy/stream.hpp"

namespace switchyard::proxy {

/// What a handler does with a frame it asked to see whole. `suspend`: it needs I/O first (a
/// catalog look-up). `send_then_suspend`: it wrote messages that must reach the peer, with
/// everything before the frame, before it can decide (a re-prepare that compares result
/// types); the pump sends them, awaits the handler's complete() and offers the frame again.
enum class FrameAction { forward, drop, replace, suspend, send_then_suspend };

/// Why a pump stopped.
struct PumpEnd {
  error_code io;                                  // read/write failure or EOF
  std::optional<protocol::FrameError> malformed;  // the peer sent a bad length
  bool stopped = false;                           // the handler asked to stop
};

/// A write of several pieces (bytes read and replacements) up to this size is copied into one
/// buffer; a longer one goes to the kernel as a list of buffers, rather than be copied.
inline constexpr std::size_t kJoinedWriteBytes = 4096;

/// A run of bytes a pump sends: read from its peer, or written by its handler in place of
/// messages.
struct PumpPiece {
  bool replacement;
  std::size_t offset;  // in the read buffer, or in the replacements
  std::size_t size;
};

/// What a pump sends for `pieces`: one buffer when it can (nearly always: the bytes read as
/// they came, or one message that replaced them all), else an empty buffer and the pieces as a
/// list in `list`. A replaced message among others (a rewritten Parse before its Bind and
/// Sync), up to kJoinedWriteBytes in all, is copied together after the replacements: that
/// costs less than handing the kernel a list. Not part of the pump's coroutine, so none of
/// this adds to each session's frames.
inline net::const_buffer gather_pieces(std::span<const PumpPiece> pieces,
                                       protocol::MessageWriter& replacements, const std::byte* read,
                                       std::vector<net::const_buffer>& list) {
  auto source = [&](const PumpPiece& piece) {
    return (piece.replacement ? replacements.data().data() : read) + piece.offset;
  };
  list.clear();
  if (pieces.size() == 1) {
    return net::buffer(source(pieces[0]), pieces[0].size);
  }
  std::size_t total = 0;
  for (const PumpPiece& piece : pieces) {
    total += piece.size;
  }
  if (pieces.size() > 1 && total <= kJoinedWriteBytes) {
    // The room is made first, so that the copies from the replacements read the buffer they
    // write to after its last move.
    const std::size_t at = replacements.size();
    std::byte* joined = replacements.append(total).data();
    for (const PumpPiece& piece : pieces) {
      std::memcpy(joined, source(piece), piece.size);
      joined += piece.size;
    }
    return net::buffer(replacements.data().data() + at, total);
  }
  for (const PumpPiece& piece : pieces) {
    list.push_back(net::buffer(source(piece), piece.size));
  }
  return {};
}

/// Sends `pieces` before the pump goes on (see FrameAction::send_then_suspend). Rare, so a
/// coroutine of its own rather than more of the pump's.
inline awaitable<error_code> send_pieces(Stream& to, std::span<const PumpPiece> pieces,
                                         protocol::MessageWriter& replacements,
                                         const std::byte* read,
                                         std::vector<net::const_buffer>& list) {
  if (const net::const_buffer one = gather_pieces(pieces, replacements, read, list);
      one.size() > 0) {
    co_return co_await to.write(one);
  }
  co_return list.empty() ? error_code{} : co_await to.write(list);
}

/// From `pos`, passes over the messages in `data[pos, end)` that the handler does not want,
/// telling it of each, and returns where the first other one starts: a wanted message, a
/// header not all there, or a bad one. An unwanted message that runs past `end` is passed too:
/// `streaming` gets its bytes still to come, and the result is `end`. Not part of the pump's
/// coroutine, so its locals stay in registers: a large result is one DataRow after another.
template <class Handler>
std::size_t skip_unwanted(Handler& handler, const std::byte* data, std::size_t pos, std::size_t end,
                          std::size_t& streaming) {
  while (auto header = protocol::whole_header({data + pos, end - pos})) {
    if (handler.wants(header->type)) {
      break;
    }
    handler.on_streamed(header->type);
    const std::size_t size = header->frame_size();
    if (size > end - pos) {
      streaming = size - (end - pos);
      return end;
    }
    pos += size;
  }
  return pos;
}

/// Moves protocol messages from one stream to another as they arrive, never holding more than
/// one read's worth unless a handler needs a whole message (a Query to rewrite). Frames the
/// handler does not want are streamed: a 1 GB DataRow passes through a 16 KiB buffer.
///
/// Handler:
///   bool wants(char type);                         // see this frame type whole
///   FrameAction on_frame(const protocol::Frame&, protocol::MessageWriter& replacement);
///   void on_streamed(char type);                   // a frame passed without being buffered
///   void on_bytes(std::size_t n);                  // bytes read from `from`
///   bool on_written();                             // after each write; false stops the pump
///   awaitable<void> complete();                    // after on_frame returned a suspend
///   static bool quiet_after(char type);            // the peer waits for an answer after it
template <class Handler>
awaitable<PumpEnd> pump(Stream& from, Stream& to, Handler& handler,
                        std::span<const std::byte> initial = {}) {
  PooledBuffer pooled;
  std::vector<std::byte> large;  // only while a wanted frame exceeds the pooled block
  std::size_t end = 0;           // bytes held
  std::size_t streaming = 0;     // bytes of a streamed frame still to come
  protocol::MessageWriter replacements;
  std::vector<PumpPiece> pieces;
  std::vector<net::const_buffer> out;
  bool last_read_filled = false;  // the previous read filled the buffer: more is likely there
  // Where an idle direction waits for its next bytes; small, as every idle session has two.
  std::array<std::byte, 256> first;

  auto base = [&]() { return large.empty() ? pooled.data() : large.data(); };
  auto capacity = [&]() { return large.empty() ? PooledBuffer::kSize : large.size(); };
  auto reserve = [&](std::size_t total) {
    if (total <= capacity()) {
      return;
    }
    std::vector<std::byte> grown(total);
    if (end > 0) {
      std::memcpy(grown.data(), base(), end);
    }
    large = std::move(grown);
    pooled.reset();
  };

  if (!initial.empty()) {
    pooled.acquire();
    reserve(initial.size());
    std::memcpy(base(), initial.data(), initial.size());
    end = initial.size();
  }
  bool process_held = end > 0;

  for (;;) {
    if (!process_held) {
      error_code ec;
      std::size_t n = 0;
      if (end == 0 && !from.is_tls()) {
        // Nothing held. After a read that filled the buffer more is probably there already:
        // read it at once into a pooled buffer.
        if (last_read_filled) {
          pooled.acquire();
          n = from.read_now(net::buffer(base(), capacity()), ec);
          if (ec == net::error::would_block) {
            pooled.reset();
            n = 0;
            ec = {};
          } else if (ec) {
            co_return PumpEnd{ec, std::nullopt};
          }
        }
        if (n == 0) {
          // Otherwise wait by reading into the frame's small buffer, so that an idle session
          // holds no pooled buffer, and a small message (most requests and OLTP answers) costs
          // one recv; the pooled buffer is taken once bytes are there.
          std::tie(ec, n) = co_await from.async_read_plain(
              net::buffer(first), streaming == 0 ? &Handler::quiet_after : nullptr);
          if (ec) {
            co_return PumpEnd{ec, std::nullopt};
          }
          pooled.acquire();
          std::memcpy(base(), first.data(), n);
          if (n == first.size()) {
            // Probably more: take what is there. An error here shows again on the next read,
            // after the bytes already read have been passed on.
            error_code more_ec;
            n += from.read_now(net::buffer(base() + n, capacity() - n), more_ec);
          }
        }
        last_read_filled = n == capacity();
      } else {
        if (end == 0) {
          // TLS: OpenSSL may hold decrypted bytes already, so this returns at once.
          if (auto wait_ec = co_await from.wait_readable()) {
            co_return PumpEnd{wait_ec, std::nullopt};
          }
          pooled.acquire();
        }
        std::tie(ec, n) = co_await from.read_some(net::buffer(base() + end, capacity() - end));
        last_read_filled = !ec && end + n == capacity();
      }
      if (ec) {
        co_return PumpEnd{ec, std::nullopt};
      }
      end += n;
      handler.on_bytes(n);
    }
    process_held = false;

    std::size_t pos = 0;
    std::size_t segment = 0;
    std::size_t need = 0;
    pieces.clear();
    replacements.clear();
    while (pos < end) {
      if (streaming > 0) {
        std::size_t k = std::min(streaming, end - pos);
        pos += k;
        streaming -= k;
        continue;
      }
      pos = skip_unwanted(handler, base(), pos, end, streaming);
      if (pos == end) {
        break;
      }
      const std::span<const std::byte> rest{base() + pos, end - pos};
      const auto header = protocol::whole_header(rest);
      if (!header) {
        auto peeked = protocol::peek_header(rest);
        if (auto* error = std::get_if<protocol::FrameError>(&peeked)) {
          co_return PumpEnd{{}, *error};
        }
        need = std::get<protocol::NeedMore>(peeked).total;
        break;
      }
      // A message the handler wants: skip_unwanted passes every other one.
      std::size_t size = header->frame_size();
      if (end - pos < size) {
        need = size;
        break;
      }
      protocol::Frame frame{
          header->type,
          {base() + pos + protocol::kTypedHeaderSize, size - protocol::kTypedHeaderSize},
          size};
      std::size_t mark = replacements.size();
      FrameAction action = handler.on_frame(frame, replacements);
      // A handler that needs I/O first (a catalog look-up) suspends; the frame stays where it
      // is in the buffer, nothing else touches the buffer meanwhile, and it is offered again.
      while (action == FrameAction::suspend || action == FrameAction::send_then_suspend) {
        if (action == FrameAction::send_then_suspend) {
          if (pos > segment) {
            pieces.push_back({false, segment, pos - segment});
          }
          if (replacements.size() > mark) {
            pieces.push_back({true, mark, replacements.size() - mark});
          }
          if (auto write_ec = co_await send_pieces(to, pieces, replacements, base(), out)) {
            co_return PumpEnd{write_ec, std::nullopt};
          }
          pieces.clear();
          replacements.clear();
          mark = 0;
          segment = pos;
        }
        co_await handler.complete();
        action = handler.on_frame(frame, replacements);
      }
      if (action != FrameAction::forward) {
        if (pos > segment) {
          pieces.push_back({false, segment, pos - segment});
        }
        if (action == FrameAction::replace && replacements.size() > mark) {
          pieces.push_back({true, mark, replacements.size() - mark});
        }
        segment = pos + size;
      }
      pos += size;
    }
    if (pos > segment) {
      pieces.push_back({false, segment, pos - segment});
    }

    error_code write_ec;
    std::size_t sent = 0;
    if (const net::const_buffer one = gather_pieces(pieces, replacements, base(), out);
        one.size() > 0) {
      if (!to.try_write(one, sent, write_ec)) {
        write_ec = co_await to.write_rest(one, sent);
      }
    } else if (!out.empty()) {
      if (!to.try_write(out, sent, write_ec)) {
        write_ec = co_await to.write_rest(out, sent);
      }
    }
    if (write_ec) {
      co_return PumpEnd{write_ec, std::nullopt};
    }
    if (!handler.on_written()) {
      co_return PumpEnd{{}, std::nullopt, true};
    }

    // Keep the unconsumed tail (a partial frame) at the front of the buffer.
    std::size_t tail = end - pos;
    if (tail > 0 && pos > 0) {
      std::memmove(base(), base() + pos, tail);
    }
    end = tail;
    if (end == 0) {
      std::vector<std::byte>().swap(large);  // `large = {}` would keep the capacity
      pooled.reset();
    } else if (need > 0) {
      // Doubling towards the frame's size as its bytes arrive, not the size its header
      // declares at once: a five-byte header saying a gigabyte must not cost a gigabyte.
      reserve(std::min(need, std::max(end + PooledBuffer::kSize, 2 * end)));
    }
  }
}

}  // namespace switchyard::proxy
