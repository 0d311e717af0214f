// Reading a --corpus file (load_corpus.h): the channel and body of each line, the events of each
// batch counted by their messageIds.

#include "tools/load/load_corpus.h"

#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace tessera::tools {

bool LoadCorpus(const Options& options, Corpus& corpus) {
  std::FILE* file = std::fopen(options.corpus.c_str(), "rb");
  if (file == nullptr) {
    std::fprintf(stderr, "tessera-load: cannot read %s: %s\n", options.corpus.c_str(), std::strerror(errno));
    return false;
  }
  char* line = nullptr;
  size_t capacity = 0;
  ssize_t length;
  bool ok = true;
  while (ok && (length = ::getline(&line, &capacity, file)) > 0) {
    std::string_view text(line, static_cast<size_t>(length));
    if (text.back() == '\n') text.remove_suffix(1);
    const size_t tab = text.find('\t');
    if (tab == std::string_view::npos || tab == 0) {
      std::fprintf(stderr, "tessera-load: %s: line %zu is not \"channel<TAB>body\"\n", options.corpus.c_str(),
                   corpus.batches.size() + 1);
      ok = false;
      break;
    }
    const std::string channel(text.substr(0, tab));
    auto known = std::find(corpus.channels.begin(), corpus.channels.end(), channel);
    if (known == corpus.channels.end()) {
      if (!options.keys.contains(channel)) {
        std::fprintf(stderr, "tessera-load: --keys has no key for channel \"%s\" of the corpus\n",
                     channel.c_str());
        ok = false;
        break;
      }
      known = corpus.channels.insert(corpus.channels.end(), channel);
    }
    Corpus::Batch batch;
    batch.channel = static_cast<size_t>(known - corpus.channels.begin());
    batch.body.assign(text.substr(tab + 1));
    for (size_t at = batch.body.find("\"messageId\":"); at != std::string::npos;
         at = batch.body.find("\"messageId\":", at + 1)) {
      ++batch.events;
    }
    corpus.batches.push_back(std::move(batch));
  }
  std::free(line);
  std::fclose(file);
  if (ok && corpus.batches.empty()) {
    std::fprintf(stderr, "tessera-load: %s holds no batch\n", options.corpus.c_str());
    ok = false;
  }
  return ok;
}

}  // namespace tessera::tools
