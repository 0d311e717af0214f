#pragma once

// The input of the --corpus mode: the batches of a file written by `tessera bench corpus` (one
// "channel<TAB>body" line per batch), read once before the run starts.

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "tools/load/load_options.h"

namespace tessera::tools {

// The batches of a --corpus file, in file order, with the index of their channel.
struct Corpus {
  struct Batch {
    size_t channel = 0;
    std::string body;
    size_t events = 0;
  };
  std::vector<std::string> channels;
  std::vector<Batch> batches;
  std::atomic<size_t> next{0};  // Over HTTP: the next batch to send.
};

// Reads `path`; every channel must have a key. Prints the problem and returns false otherwise.
bool LoadCorpus(const Options& options, Corpus& corpus);

}  // namespace tessera::tools
