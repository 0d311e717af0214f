#pragma once

// SyntheticPeople: a seeded generator of person records with a known ground truth of duplicates,
// for benchmarking `tessera match` at scale (docs/benchmarks.md, row M1). Each person gets one to
// five records; the copies carry the mistakes real customer files have: typos (a letter replaced,
// dropped, doubled or two adjacent letters swapped), first name and surname swapped, day and month
// of birth swapped, a digit of the date mistyped, a second e-mail address, a move to another city,
// missing values, upper-case rows, dates in three spellings. About one person in ten has a Korean
// name, written in Hangul or in one of three romanizations, record by record.
//
// The same options give the same text, byte for byte, on every platform (SplitMix64, no
// floating-point formatting). Columns: id,first_name,surname,dob,email,city,postcode,cluster;
// `cluster` is the ground truth (the person), which the inferred schema does not compare.

#include <cstddef>
#include <cstdint>
#include <string>

namespace tessera::matching {

struct SyntheticPeopleOptions {
  // Rows to write (the last person may get fewer copies than drawn).
  size_t records = 100'000;
  // Seed of everything drawn.
  uint64_t seed = 25;
  // Share of people with a Korean name (and a Korean city, postcode and mail provider).
  double korean_share = 0.1;
};

struct SyntheticPeople {
  std::string csv;        // the file's text, header included
  size_t people = 0;      // distinct `cluster` values
  size_t true_pairs = 0;  // pairs of records of the same person
};

SyntheticPeople GenerateSyntheticPeople(const SyntheticPeopleOptions& options);

}  // namespace tessera::matching
