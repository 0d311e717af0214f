#include "matching/blocking.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "matching/parallel_chunks.h"

namespace tessera::matching {
namespace {

std::optional<size_t> FirstOfKind(const Schema& schema, ColumnKind kind) {
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    if (schema.columns[c].kind == kind) return c;
  }
  return std::nullopt;
}

char SoundexDigit(char c) {
  switch (c) {
    case 'b':
    case 'f':
    case 'p':
    case 'v':
      return '1';
    case 'c':
    case 'g':
    case 'j':
    case 'k':
    case 'q':
    case 's':
    case 'x':
    case 'z':
      return '2';
    case 'd':
    case 't':
      return '3';
    case 'l':
      return '4';
    case 'm':
    case 'n':
      return '5';
    case 'r':
      return '6';
    case 'h':
    case 'w':
      return '-';  // does not separate equal codes
    default:
      return '0';  // vowels (and y) separate equal codes
  }
}

void AppendPart(std::string& key, const BlockingPart& part, const PreparedRecords& records, size_t record,
                bool& missing) {
  const std::string& value = records.values[part.column][record];
  if (value.empty()) {
    missing = true;
    return;
  }
  switch (part.part) {
    case KeyPart::kExact:
      key += value;
      break;
    case KeyPart::kInitial:
      key += value.front();
      break;
    case KeyPart::kSoundKey: {
      const std::string sound = SoundKey(value);
      if (sound.empty()) missing = true;
      key += sound;
      break;
    }
    case KeyPart::kYear:
      key += value.substr(0, 4);
      break;
    case KeyPart::kDateAnyOrder: {
      // YYYY-MM-DD.
      const std::string month = value.substr(5, 2), day = value.substr(8, 2);
      key += value.substr(0, 4) + std::min(month, day) + std::max(month, day);
      break;
    }
    case KeyPart::kEmailUser:
      key += value.substr(0, value.find('@'));
      break;
  }
  key += '\x1f';
}

}  // namespace

std::string SoundKey(std::string_view value) {
  std::string key;
  char last = 0;
  for (char c : value) {
    if (c < 'a' || c > 'z') continue;
    const char digit = SoundexDigit(c);
    if (key.empty()) {
      key.push_back(static_cast<char>(c - 'a' + 'A'));
      last = digit;
      continue;
    }
    if (digit == '-') continue;
    if (digit != '0' && digit != last) key.push_back(digit);
    last = digit;
    if (key.size() == 4) break;
  }
  if (key.empty()) return key;
  key.resize(4, '0');
  return key;
}

std::vector<BlockingRule> DefaultBlockingRules(const Schema& schema) {
  std::vector<BlockingRule> rules;
  const auto first = FirstOfKind(schema, ColumnKind::kFirstName);
  const auto surname = FirstOfKind(schema, ColumnKind::kSurname);
  const auto full_name = FirstOfKind(schema, ColumnKind::kPersonName);
  const auto dob = FirstOfKind(schema, ColumnKind::kDateOfBirth);
  const auto email = FirstOfKind(schema, ColumnKind::kEmail);
  const auto phone = FirstOfKind(schema, ColumnKind::kPhone);
  const auto postcode = FirstOfKind(schema, ColumnKind::kPostcode);
  const auto address = FirstOfKind(schema, ColumnKind::kAddress);
  auto name_of = [&](size_t column) { return schema.columns[column].name; };
  if (first && surname) {
    rules.push_back({name_of(*first) + ":initial+" + name_of(*surname) + ":sound",
                     {{*first, KeyPart::kInitial}, {*surname, KeyPart::kSoundKey}}});
    rules.push_back({name_of(*first) + ":sound+" + name_of(*surname) + ":initial",
                     {{*first, KeyPart::kSoundKey}, {*surname, KeyPart::kInitial}}});
    rules.push_back({name_of(*first) + ":sound+" + name_of(*surname) + ":sound in any order",
                     {{*first, KeyPart::kSoundKey}, {*surname, KeyPart::kSoundKey}},
                     /*any_order=*/true});
  }
  const auto city = FirstOfKind(schema, ColumnKind::kCity);
  for (const auto& name : {first, surname, full_name}) {
    if (name && dob) {
      rules.push_back({name_of(*name) + ":sound+" + name_of(*dob) + ":year",
                       {{*name, KeyPart::kSoundKey}, {*dob, KeyPart::kYear}}});
    }
    if (name && city) {
      rules.push_back({name_of(*name) + ":sound+" + name_of(*city),
                       {{*name, KeyPart::kSoundKey}, {*city, KeyPart::kExact}}});
    }
  }
  if (full_name) rules.push_back({name_of(*full_name) + ":sound", {{*full_name, KeyPart::kSoundKey}}});
  if (dob) rules.push_back({name_of(*dob) + ":day/month in any order", {{*dob, KeyPart::kDateAnyOrder}}});
  if (email) {
    rules.push_back({name_of(*email), {{*email, KeyPart::kExact}}});
    rules.push_back({name_of(*email) + ":user", {{*email, KeyPart::kEmailUser}}});
  }
  if (phone) rules.push_back({name_of(*phone), {{*phone, KeyPart::kExact}}});
  const auto initial_column = first ? first : full_name;
  if (postcode && initial_column) {
    rules.push_back({name_of(*postcode) + "+" + name_of(*initial_column) + ":initial",
                     {{*postcode, KeyPart::kExact}, {*initial_column, KeyPart::kInitial}}});
  }
  if (address && postcode) {
    rules.push_back({name_of(*address) + "+" + name_of(*postcode),
                     {{*address, KeyPart::kExact}, {*postcode, KeyPart::kExact}}});
  }
  if (rules.empty()) {
    for (size_t c = 0; c < schema.columns.size(); ++c) rules.push_back({name_of(c), {{c, KeyPart::kExact}}});
  }
  return rules;
}

std::string PartKey(const BlockingPart& part, const PreparedRecords& records, size_t record) {
  std::string key;
  bool missing = false;
  AppendPart(key, part, records, record, missing);
  return missing ? std::string() : key;
}

std::string BlockingKey(const BlockingRule& rule, const PreparedRecords& records, size_t record) {
  std::vector<std::string> keys;
  bool missing = false;
  for (const BlockingPart& part : rule.parts) {
    AppendPart(keys.emplace_back(), part, records, record, missing);
    if (missing) return "";
  }
  if (rule.any_order) std::sort(keys.begin(), keys.end());
  std::string key;
  for (const std::string& part : keys) key += part;
  return key;
}

CandidatePairs PairsOfRule(const BlockingRule& rule, const PreparedRecords& records,
                           const BlockingOptions& options) {
  std::unordered_map<std::string, std::vector<uint32_t>> blocks;
  for (size_t i = 0; i < records.size(); ++i) {
    std::string key = BlockingKey(rule, records, i);
    if (!key.empty()) blocks[std::move(key)].push_back(static_cast<uint32_t>(i));
  }
  CandidatePairs result;
  RuleBlockStats& stats = result.rule_stats.emplace_back();
  for (const auto& [key, members] : blocks) {
    stats.keyed_records += members.size();
    if (members.size() > options.max_block_size) {
      ++result.blocks_skipped;
      stats.skipped_records += members.size();
      continue;
    }
    for (size_t a = 0; a < members.size(); ++a) {
      for (size_t b = a + 1; b < members.size(); ++b) {
        if (options.link_only && records.source[members[a]] == records.source[members[b]]) continue;
        result.pairs.push_back({members[a], members[b]});  // members are in record order: a < b
      }
    }
  }
  stats.pairs = result.pairs.size();
  std::sort(result.pairs.begin(), result.pairs.end(),
            [](const RecordPair& x, const RecordPair& y) { return x.l != y.l ? x.l < y.l : x.r < y.r; });
  return result;
}

CandidatePairs PairsOfRules(const std::vector<BlockingRule>& rules, const PreparedRecords& records,
                            const BlockingOptions& options, size_t threads) {
  // Each rule's pairs (sorted; the rules blocked in parallel, each into its own slot), then one
  // merge of all the lists at once: the smallest head goes out with the bits of every rule that
  // has it. One pass, one output allocation, and the same result whichever thread blocked which
  // rule.
  std::vector<CandidatePairs> per_rule(rules.size());
  ForEachChunk(rules.size(), 1, threads,
               [&](size_t k, size_t, size_t) { per_rule[k] = PairsOfRule(rules[k], records, options); });
  CandidatePairs all;
  size_t total = 0;
  for (const CandidatePairs& one : per_rule) {
    all.blocks_skipped += one.blocks_skipped;
    all.rule_stats.push_back(one.rule_stats.front());
    total += one.pairs.size();
  }
  // Reserved for the worst case (no pair shared); pages never written are never touched.
  all.pairs.reserve(total);
  all.rules_of.reserve(total);
  auto key = [](const RecordPair& p) { return uint64_t{p.l} << 32 | p.r; };
  std::vector<size_t> at(per_rule.size(), 0);
  while (true) {
    uint64_t smallest = UINT64_MAX;
    for (size_t k = 0; k < per_rule.size(); ++k) {
      if (at[k] < per_rule[k].pairs.size()) smallest = std::min(smallest, key(per_rule[k].pairs[at[k]]));
    }
    if (smallest == UINT64_MAX) break;  // (a pair's r is never UINT32_MAX: r < records.size())
    uint64_t mask = 0;
    for (size_t k = 0; k < per_rule.size(); ++k) {
      if (at[k] < per_rule[k].pairs.size() && key(per_rule[k].pairs[at[k]]) == smallest) {
        mask |= k < 64 ? uint64_t{1} << k : 0;
        ++at[k];
      }
    }
    all.pairs.push_back({static_cast<uint32_t>(smallest >> 32), static_cast<uint32_t>(smallest)});
    all.rules_of.push_back(mask);
  }
  return all;
}

}  // namespace tessera::matching
