// Framer throughput on DataRow streams: how fast the relay can find message boundaries in what
// it reads. The relay never looks inside a DataRow, so this is the per-read framing cost the
// proxy adds on top of the socket copies.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "protocol/framer.hpp"
#include "proxy/pump.hpp"

namespace {

using switchyard::protocol::whole_header;

constexpr std::size_t kStreamBytes = 32u << 20;  // bigger than the caches on purpose
constexpr std::size_t kReadSize = 16 * 1024;     // the relay's pooled buffer

// A stream of DataRow messages whose whole frames are `frame_size` bytes each.
std::vector<std::byte> data_rows(std::size_t frame_size) {
  std::vector<std::byte> out;
  out.reserve(kStreamBytes + frame_size);
  const auto length = static_cast<std::uint32_t>(frame_size - 1);
  while (out.size() < kStreamBytes) {
    out.push_back(std::byte{'D'});
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<std::byte>((length >> shift) & 0xff));
    }
    out.resize(out.size() + frame_size - 5, std::byte{'x'});
  }
  return out;
}

// Whole stream in memory, cut one frame after another. A stream bigger than the caches, so the
// headers come from memory; the relay frames in cache (next benchmark).
void BM_FramerWholeBuffer(benchmark::State& state) {
  const auto stream = data_rows(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::size_t pos = 0;
    std::size_t frames = 0;
    while (pos < stream.size()) {
      const auto header = whole_header({stream.data() + pos, stream.size() - pos});
      if (!header) {
        break;
      }
      pos += header->frame_size();
      ++frames;
    }
    benchmark::DoNotOptimize(frames);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_FramerWholeBuffer)->Arg(64)->Arg(512)->Arg(8192)->Arg(1 << 20);

// A direction whose messages all pass unseen, as DataRows do.
struct StreamEverything {
  std::size_t frames = 0;
  bool wants(char) const { return false; }
  void on_streamed(char) { ++frames; }
};

// The relay's shape (proxy/pump.hpp): each read copies the next 16 KiB into one reused buffer,
// after the partial header held from the read before (recv does that copy), and the pump's
// skip_unwanted walks the buffer while it is in cache, frames that straddle reads included.
// The figure includes the copy; BM_MemcpyReads is the copy alone.
void BM_FramerStreamedReads(benchmark::State& state) {
  const auto stream = data_rows(static_cast<std::size_t>(state.range(0)));
  std::vector<std::byte> buffer(switchyard::protocol::kTypedHeaderSize + kReadSize);
  for (auto _ : state) {
    StreamEverything handler;
    std::size_t streaming = 0;
    std::size_t held = 0;  // bytes of a partial header carried to the next read
    for (std::size_t read = 0; read < stream.size(); read += kReadSize) {
      const std::size_t n = std::min(kReadSize, stream.size() - read);
      std::memcpy(buffer.data() + held, stream.data() + read, n);
      const std::byte* base = buffer.data();
      const std::size_t end = held + n;
      std::size_t pos = std::min(streaming, end);
      streaming -= pos;
      if (pos < end) {
        pos = switchyard::proxy::skip_unwanted(handler, base, pos, end, streaming);
      }
      held = end - pos;  // a partial header, or nothing
      std::memmove(buffer.data(), buffer.data() + pos, held);
    }
    if (handler.frames != stream.size() / static_cast<std::size_t>(state.range(0))) {
      state.SkipWithError("the walk missed frames");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_FramerStreamedReads)->Arg(64)->Arg(512)->Arg(8192)->Arg(1 << 20);

// For scale: copying the same bytes once, which the kernel does at least twice per relay.
void BM_MemcpyReads(benchmark::State& state) {
  const auto stream = data_rows(8192);
  std::vector<std::byte> buffer(kReadSize);
  for (auto _ : state) {
    for (std::size_t read = 0; read < stream.size(); read += kReadSize) {
      const std::size_t n = std::min(kReadSize, stream.size() - read);
      std::copy_n(stream.data() + read, n, buffer.data());
      benchmark::ClobberMemory();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_MemcpyReads);

}  // namespace
