#pragma once

// The public sample payloads in ../shared/payloads (see its README for their sources).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#ifndef TESSERA_SHARED_DIR
#define TESSERA_SHARED_DIR "../shared"
#endif

namespace tessera::connectors::testing {

// The exact bytes of payloads/`name` (e.g. "sendgrid/signed_event_body.bin"); a test failure when
// the file cannot be read.
inline std::string ReadSample(const std::string& name) {
  std::ifstream file(std::string(TESSERA_SHARED_DIR) + "/payloads/" + name, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot read sample payload " << name;
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

}  // namespace tessera::connectors::testing
