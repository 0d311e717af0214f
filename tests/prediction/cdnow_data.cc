#include "tests/prediction/cdnow_data.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tessera::prediction::testing {

absl::StatusOr<std::vector<std::vector<Transaction>>> ReadCdnow(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::vector<std::vector<Transaction>> customers;
  std::string line;
  int line_number = 0;
  while (std::getline(file, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    long master_id = 0;
    long sample_id = 0;
    long date = 0;
    long cds = 0;
    double dollars = 0;
    if (!(fields >> master_id >> sample_id >> date >> cds >> dollars) || sample_id < 1) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": unreadable line"));
    }
    const std::chrono::year_month_day day{std::chrono::year(static_cast<int>(date / 10000)),
                                          std::chrono::month(static_cast<unsigned>(date / 100 % 100)),
                                          std::chrono::day(static_cast<unsigned>(date % 100))};
    if (!day.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": bad date"));
    if (customers.size() < static_cast<size_t>(sample_id)) customers.resize(sample_id);
    customers[sample_id - 1].push_back(
        {.time = base::Timestamp(std::chrono::sys_days(day)), .value = dollars});
  }
  return customers;
}

base::Timestamp EndOfDay(int year, unsigned month, unsigned day) {
  const std::chrono::sys_days start{std::chrono::year(year) / std::chrono::month(month) /
                                    std::chrono::day(day)};
  return base::Timestamp(start + std::chrono::days(1)) - std::chrono::microseconds(1);
}

}  // namespace tessera::prediction::testing
