#pragma once

// ParallelChunks: runs work over [0, n) in fixed chunks on a few threads, for the matcher's
// per-pair loops (comparing, scoring, formatting the outputs). The chunks' boundaries depend only
// on n and the chunk size, never on the number of threads, and each chunk is handed to exactly one
// call; so work that writes only its own chunk's slots (or a per-chunk result that the caller
// combines in chunk order) gives the same bytes whatever the thread count. Calls run concurrently:
// `work` must be safe to call from several threads at once.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace tessera::matching {

// `requested`, or the machine's hardware threads when it is 0; at least 1.
inline size_t ThreadCount(size_t requested) {
  if (requested > 0) return requested;
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

// Calls work(chunk, begin, end) for every chunk [k * chunk_size, min(n, (k + 1) * chunk_size)),
// on up to `threads` threads (the caller's included), and returns when all are done.
template <typename Work>
void ForEachChunk(size_t n, size_t chunk_size, size_t threads, const Work& work) {
  chunk_size = std::max<size_t>(1, chunk_size);
  const size_t chunks = (n + chunk_size - 1) / chunk_size;
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t k = next.fetch_add(1); k < chunks; k = next.fetch_add(1)) {
      work(k, k * chunk_size, std::min(n, (k + 1) * chunk_size));
    }
  };
  const size_t helpers = std::min(ThreadCount(threads), chunks) - (chunks > 0 ? 1 : 0);
  std::vector<std::thread> pool;
  pool.reserve(helpers);
  for (size_t t = 0; t < helpers; ++t) pool.emplace_back(run);
  run();
  for (std::thread& thread : pool) thread.join();
}

}  // namespace tessera::matching
