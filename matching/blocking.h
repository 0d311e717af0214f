#pragma once

// Blocking: which pairs of records are compared at all. Each rule makes a key per record (e.g. the
// first name's initial and the surname's sound key); records sharing a key form a block and every
// pair in a block is a candidate. The union of the rules' pairs, without repeats, is what the model
// scores. Each rule keeps its blocks small, so the number of pairs grows about linearly with the
// input; a block larger than `max_block_size` is skipped (and counted) rather than let one common
// key make the run quadratic.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "matching/prepared_records.h"
#include "matching/schema.h"

namespace tessera::matching {

enum class KeyPart {
  kExact,         // the whole normalized value
  kInitial,       // its first character
  kSoundKey,      // American Soundex of its letters
  kYear,          // a date's year
  kDateAnyOrder,  // a date's year with its month and day in either order (typed day/month swapped)
  kEmailUser,     // an e-mail address's part before '@'
};

struct BlockingPart {
  size_t column = 0;  // index into the schema's columns
  KeyPart part = KeyPart::kExact;
};

struct BlockingRule {
  std::string name;  // e.g. "first_name:initial+surname:sound"
  std::vector<BlockingPart> parts;
  // The parts' keys are sorted before they are joined, so that values entered in each other's
  // columns (first name and surname swapped) share a key.
  bool any_order = false;
};

struct BlockingOptions {
  // Blocks with more records than this are skipped (their pairs would be this squared / 2).
  size_t max_block_size = 1000;
  // Linking two inputs: only pairs whose records come from different sources.
  bool link_only = false;
};

// What one rule's blocking did: for training's estimate of lambda (how many true pairs a rule can
// propose at all).
struct RuleBlockStats {
  size_t pairs = 0;            // pairs proposed (within the blocks kept)
  size_t keyed_records = 0;    // records with a key (no key part missing)
  size_t skipped_records = 0;  // of those, records in blocks larger than max_block_size
};

struct CandidatePairs {
  std::vector<RecordPair> pairs;  // sorted by (l, r), each once
  size_t blocks_skipped = 0;      // blocks larger than max_block_size
  // One per rule (PairsOfRule: one), in the rules' order.
  std::vector<RuleBlockStats> rule_stats;
  // PairsOfRules only: per pair, bit k set when rule k proposed it (rules past the 64th are not
  // recorded), so training can take each rule's pairs from the union instead of blocking again.
  std::vector<uint64_t> rules_of;
};

// The rules for the columns a schema has: first initial + surname sound key, first name sound key
// + surname initial, both names' sound keys in either order, each name's sound key + year of
// birth, each name's sound key + city, whole-name sound key, date of birth (day and month in either order),
// e-mail, e-mail user name, phone, postcode + first initial, address + postcode. A schema with none of these
// columns gets one exact rule per column.
std::vector<BlockingRule> DefaultBlockingRules(const Schema& schema);

// American Soundex (letter + three digits) of the letters of `value`; "" when it has none.
std::string SoundKey(std::string_view value);

// The key of one part for `record` ("" when the value is missing or has no key, e.g. no letters
// for a sound key).
std::string PartKey(const BlockingPart& part, const PreparedRecords& records, size_t record);

// The key of `record` under `rule`; "" when a part is missing (the record is then in no block).
std::string BlockingKey(const BlockingRule& rule, const PreparedRecords& records, size_t record);

CandidatePairs PairsOfRule(const BlockingRule& rule, const PreparedRecords& records,
                           const BlockingOptions& options);
// The union of the rules' pairs, with `rules_of`. The rules are blocked on up to `threads` threads
// (0: all the machine has); the result does not depend on the number.
CandidatePairs PairsOfRules(const std::vector<BlockingRule>& rules, const PreparedRecords& records,
                            const BlockingOptions& options, size_t threads = 1);

}  // namespace tessera::matching
