#pragma once

// Internal to cluster/: nats.c's objects as unique_ptrs that destroy them, and its units.

#include <cstdint>
#include <memory>

#include "nats/nats.h"

namespace tessera::cluster::internal {

// nats.c takes JetStream durations (stream MaxAge and Duplicates, key-value TTL) in nanoseconds.
inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

template <typename T, void (*Destroy)(T*)>
struct NatsDeleter {
  void operator()(T* object) const { Destroy(object); }
};

using NatsOptionsPtr = std::unique_ptr<natsOptions, NatsDeleter<natsOptions, natsOptions_Destroy>>;
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, NatsDeleter<jsStreamInfo, jsStreamInfo_Destroy>>;
using PubAckPtr = std::unique_ptr<jsPubAck, NatsDeleter<jsPubAck, jsPubAck_Destroy>>;
using NatsMsgPtr = std::unique_ptr<natsMsg, NatsDeleter<natsMsg, natsMsg_Destroy>>;

}  // namespace tessera::cluster::internal
