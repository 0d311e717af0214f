#pragma once

// The CDNOW sample (../shared/datasets/cdnow/CDNOW_sample.txt, from lifetimes; see its README): 6,919
// purchases of 2,357 customers, one line each, "master_id sample_id YYYYMMDD cds dollars". Read into
// one transaction list per customer, indexed by sample id − 1, each purchase at 00:00 UTC of its day.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "prediction/calibration_summary.h"

#ifndef TESSERA_SHARED_DIR
#define TESSERA_SHARED_DIR "../shared"
#endif

namespace tessera::prediction::testing {

inline const std::string kCdnowPath = std::string(TESSERA_SHARED_DIR) + "/datasets/cdnow/CDNOW_sample.txt";

// customers[i] holds the purchases of sample id i + 1.
absl::StatusOr<std::vector<std::vector<Transaction>>> ReadCdnow(const std::string& path = kCdnowPath);

// The last microsecond of a UTC day: a cut-off that includes that whole day.
base::Timestamp EndOfDay(int year, unsigned month, unsigned day);

}  // namespace tessera::prediction::testing
