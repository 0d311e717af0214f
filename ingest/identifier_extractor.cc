#include "ingest/identifier_extractor.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/json_reading.h"
#include "simdjson.h"

namespace tessera::ingest {
namespace {

namespace od = simdjson::ondemand;
namespace id_type = identity::identifier_type;
using identity::RawIdentifier;

constexpr size_t kMaxTypeChars = 64;
constexpr size_t kMaxShownChars = 64;

// Where the walk over the sub-documents leaves the values it was asked for. The built-in lookups
// come first; each configured mapping into a sub-document has one more slot after them.
enum BuiltinSlot : size_t {
  kTraitsEmail,
  kTraitsPhone,
  kContextTraitsEmail,
  kContextTraitsPhone,
  kDeviceId,
  kAdvertisingId,
  kAdTrackingEnabled,
  kDeviceType,
  kOsName,
  kLocale,
  kLocationCountry,
  kBuiltinSlotCount
};

// One value found at a looked-up path, kept only as far as the interpretation needs it.
struct Captured {
  enum class Kind : uint8_t { kAbsent, kString, kInteger, kBool, kNull, kOther };
  Kind kind = Kind::kAbsent;
  bool flag = false;  // kBool's value.
  std::string text;   // kString's value, kInteger's decimal text, kOther's description.
};

// A trie of the keys to look up in one sub-document. Walking it visits each member of the
// document at most once and descends only into members that lead somewhere.
struct PathNode {
  std::string key;
  std::vector<size_t> slots;  // Slots that receive the value at this path.
  bool external_ids = false;  // context.externalIds: read the array's elements.
  std::vector<PathNode> children;

  const PathNode* Child(std::string_view name) const {
    for (const PathNode& child : children) {
      if (child.key == name) return &child;
    }
    return nullptr;
  }
  PathNode& ChildFor(std::string_view name) {
    for (PathNode& child : children) {
      if (child.key == name) return child;
    }
    PathNode& child = children.emplace_back();
    child.key = std::string(name);
    return child;
  }
  void CollectSlots(std::vector<size_t>& out) const {
    out.insert(out.end(), slots.begin(), slots.end());
    for (const PathNode& child : children) child.CollectSlots(out);
  }
};

// A sub-document of the event and the lookups into it.
struct DocumentPlan {
  std::string_view name;  // "traits", "context", ...
  PathNode root;
  std::vector<size_t> all_slots;  // Cleared when the document turns out to be malformed.
};

// Where a configured mapping takes its value from.
enum class MappingSource : uint8_t {
  kTraits,
  kContext,
  kProperties,
  kIntegrations,
  kUserId,
  kAnonymousId,
  kEvent,
  kName,
  kCategory,
  kGroupId,
  kPreviousId,
  kMessageId,
  kUnsupported,
};

struct MappingPlan {
  IdentifierMapping mapping;
  MappingSource source = MappingSource::kUnsupported;
  size_t slot = 0;      // For the sub-document sources.
  std::string problem;  // For kUnsupported: the warning each event gets.
};

std::string_view Trim(std::string_view text) {
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

// JSON integers only: "-12" yes, "1.0", "1e3" no. Any length (big ids stay exact as text).
bool IsIntegerToken(std::string_view token) {
  if (!token.empty() && token.front() == '-') token.remove_prefix(1);
  if (token.empty()) return false;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Event text shown in a warning: escaped so that control characters cannot garble a log line,
// and shortened.
std::string Quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string quoted = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShownChars; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      quoted.push_back('\\');
      quoted.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      quoted.append("\\x").push_back(kHex[c >> 4]);
      quoted.push_back(kHex[c & 0xf]);
    } else {
      quoted.push_back(static_cast<char>(c));
    }
  }
  quoted.push_back('"');
  if (text.size() > kMaxShownChars) quoted.append("...");
  return quoted;
}

std::string Describe(const Captured& value) {
  switch (value.kind) {
    case Captured::Kind::kString:
      return Quote(value.text);
    case Captured::Kind::kInteger:
      if (value.text.size() > kMaxShownChars) return value.text.substr(0, kMaxShownChars) + "...";
      return value.text;
    case Captured::Kind::kOther:
      return value.text;
    case Captured::Kind::kBool:
      return value.flag ? "true" : "false";
    case Captured::Kind::kNull:
      return "null";
    case Captured::Kind::kAbsent:
      break;
  }
  return "nothing";
}

// Reads the value the iterator stands on into `out`. Containers are only named, not read.
simdjson::error_code Capture(od::value& value, od::json_type type, Captured& out) {
  switch (type) {
    case od::json_type::string: {
      std::string_view text;
      if (auto e = value.get_string().get(text)) return e;
      out.kind = Captured::Kind::kString;
      out.text.assign(text);
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      const std::string_view token = Trim(value.raw_json_token());
      out.kind = IsIntegerToken(token) ? Captured::Kind::kInteger : Captured::Kind::kOther;
      // An integer is an identifier and is kept whole; anything else is only shown in a warning.
      out.text.assign(out.kind == Captured::Kind::kInteger ? token : token.substr(0, kMaxShownChars));
      return simdjson::SUCCESS;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if (auto e = value.get_bool().get(flag)) return e;
      out.kind = Captured::Kind::kBool;
      out.flag = flag;
      return simdjson::SUCCESS;
    }
    case od::json_type::null:
      out.kind = Captured::Kind::kNull;
      return simdjson::SUCCESS;
    case od::json_type::object:
      out.kind = Captured::Kind::kOther;
      out.text.assign("an object");
      return simdjson::SUCCESS;
    case od::json_type::array:
      out.kind = Captured::Kind::kOther;
      out.text.assign("an array");
      return simdjson::SUCCESS;
  }
  return simdjson::INCORRECT_TYPE;
}

// Lower-cases an externalIds type and maps the spellings SDKs use for the built-in types onto them;
// anything else keeps its name with characters outside [a-z0-9_] replaced by '_' (at most 64).
std::string NormalizeExternalType(std::string_view given) {
  struct Alias {
    std::string_view name;
    std::string_view type;
  };
  static constexpr Alias kAliases[] = {
      {"email", id_type::kEmail},
      {"phone", id_type::kPhone},
      {"phone_number", id_type::kPhone},
      {"user_id", id_type::kUserId},
      {"userid", id_type::kUserId},
      {"anonymous_id", id_type::kAnonymousId},
      {"anonymousid", id_type::kAnonymousId},
      {"idfa", id_type::kIdfa},
      {"ios.idfa", id_type::kIdfa},
      {"ios_idfa", id_type::kIdfa},
      {"gaid", id_type::kGaid},
      {"android.id", id_type::kGaid},
      {"android_id", id_type::kGaid},
      {"android.idfa", id_type::kGaid},
      {"android_idfa", id_type::kGaid},
      {"device_id", id_type::kDeviceId},
  };
  std::string type;
  type.reserve(given.size());
  for (char c : given) type.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  // Aliases are looked up before sanitizing ("ios.idfa") and after it ("Phone Number").
  for (int pass = 0; pass < 2; ++pass) {
    for (const Alias& alias : kAliases) {
      if (type == alias.name) return std::string(alias.type);
    }
    if (pass == 1) break;
    for (char& c : type) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
    }
  }
  if (type.size() > kMaxTypeChars) type.resize(kMaxTypeChars);
  return type;
}

// Per-thread state of one Extract call, reused so that a steady stream of events allocates little.
struct Scratch {
  std::vector<Captured> slots;
  std::vector<RawIdentifier> external_ids;
  std::vector<std::string> external_warnings;

  void Reset(size_t slot_count) {
    slots.resize(slot_count);
    for (Captured& slot : slots) slot.kind = Captured::Kind::kAbsent;
    external_ids.clear();
    external_warnings.clear();
  }
};

simdjson::error_code ReadExternalIds(od::value& value, Scratch& scratch) {
  od::array array;
  if (auto e = value.get_array().get(array)) return e;
  size_t index = 0;
  for (auto item_result : array) {
    od::value item;
    if (auto e = item_result.get(item)) return e;
    const std::string path = "context.externalIds[" + std::to_string(index++) + "]";
    od::json_type type;
    if (auto e = item.type().get(type)) return e;
    if (type != od::json_type::object) {
      Captured got;
      if (auto e = Capture(item, type, got)) return e;
      scratch.external_warnings.push_back(path + ": expected an object, got " + Describe(got));
      continue;
    }
    od::object object;
    if (auto e = item.get_object().get(object)) return e;
    Captured id;
    Captured id_type_value;
    for (auto field_result : object) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return e;
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return e;
      Captured* target = key == "id" ? &id : key == "type" ? &id_type_value : nullptr;
      if (target == nullptr) continue;
      od::json_type member_type;
      if (auto e = field.value().type().get(member_type)) return e;
      if (auto e = Capture(field.value(), member_type, *target)) return e;
    }

    const bool has_id = id.kind != Captured::Kind::kAbsent && id.kind != Captured::Kind::kNull;
    const bool has_type = id_type_value.kind != Captured::Kind::kAbsent &&
                          id_type_value.kind != Captured::Kind::kNull &&
                          !(id_type_value.kind == Captured::Kind::kString && id_type_value.text.empty());
    if (!has_id) {
      scratch.external_warnings.push_back(path + ": missing id");
      continue;
    }
    if (id.kind != Captured::Kind::kString && id.kind != Captured::Kind::kInteger) {
      scratch.external_warnings.push_back(path + ".id: expected a string or an integer, got " + Describe(id));
      continue;
    }
    if (!has_type) {
      scratch.external_warnings.push_back(path + ": missing type");
      continue;
    }
    if (id_type_value.kind != Captured::Kind::kString) {
      scratch.external_warnings.push_back(path + ".type: expected a string, got " + Describe(id_type_value));
      continue;
    }
    if (id.text.empty()) continue;
    scratch.external_ids.push_back({NormalizeExternalType(id_type_value.text), std::move(id.text), path});
  }
  return simdjson::SUCCESS;
}

simdjson::error_code WalkObject(od::object& object, const PathNode& node, Scratch& scratch);

simdjson::error_code VisitValue(od::value& value, const PathNode& node, Scratch& scratch) {
  od::json_type type;
  if (auto e = value.type().get(type)) return e;
  if (!node.slots.empty()) {
    Captured& first = scratch.slots[node.slots.front()];
    if (auto e = Capture(value, type, first)) return e;
    for (size_t i = 1; i < node.slots.size(); ++i) scratch.slots[node.slots[i]] = first;
  }
  if (node.external_ids) {
    if (type == od::json_type::array) return ReadExternalIds(value, scratch);
    if (type != od::json_type::null) {
      Captured got;
      if (auto e = Capture(value, type, got)) return e;
      scratch.external_warnings.push_back("context.externalIds: expected an array, got " + Describe(got));
    }
    return simdjson::SUCCESS;
  }
  if (type == od::json_type::object && !node.children.empty()) {
    od::object object;
    if (auto e = value.get_object().get(object)) return e;
    return WalkObject(object, node, scratch);
  }
  return simdjson::SUCCESS;
}

simdjson::error_code WalkObject(od::object& object, const PathNode& node, Scratch& scratch) {
  for (auto field_result : object) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return e;
    // Unescaped, so that "em\u0061il" is "email"; measured no slower than comparing raw keys.
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return e;
    const PathNode* child = node.Child(key);
    if (child == nullptr) continue;  // The iterator skips the value.
    if (auto e = VisitValue(field.value(), *child, scratch)) return e;
  }
  return simdjson::SUCCESS;
}

// Parses one sub-document and runs its lookups. A document that is not an object, or does not
// parse, gives a warning and no values (it was validated on the way in, so this means a bug or a
// damaged record, not a client mistake).
void WalkDocument(std::string_view json, const DocumentPlan& plan, Scratch& scratch,
                  std::vector<std::string>& warnings) {
  // The event's strings carry no padding: copy into a per-thread buffer that has it.
  thread_local base::ReusableJsonParser parser;
  od::document doc;
  simdjson::error_code error = parser.Iterate(json).get(doc);
  od::object object;
  if (error == simdjson::SUCCESS) {
    od::json_type type;
    error = doc.type().get(type);
    if (error == simdjson::SUCCESS && type != od::json_type::object) {
      warnings.push_back(std::string(plan.name) + ": expected an object");
      return;
    }
  }
  if (error == simdjson::SUCCESS) error = doc.get_object().get(object);
  if (error == simdjson::SUCCESS) error = WalkObject(object, plan.root, scratch);
  if (error == simdjson::SUCCESS) return;

  for (size_t slot : plan.all_slots) scratch.slots[slot].kind = Captured::Kind::kAbsent;
  if (plan.root.Child("externalIds") != nullptr) {
    scratch.external_ids.clear();
    scratch.external_warnings.clear();
  }
  warnings.push_back(std::string(plan.name) + ": malformed JSON (" + simdjson::error_message(error) + ")");
}

// The output list: appends in order and drops exact repeats of (type, value).
class IdentifierList {
 public:
  explicit IdentifierList(ExtractedIdentifiers& out) : out_(out) {}

  void Add(std::string_view type, std::string value, std::string_view field) {
    if (value.empty()) return;
    std::vector<RawIdentifier>& ids = out_.identifiers;
    ids.push_back({std::string(type), std::move(value), std::string(field)});
    if (ids.size() <= kLinearLimit) {
      for (size_t i = 0; i + 1 < ids.size(); ++i) {
        if (ids[i].type == ids.back().type && ids[i].value == ids.back().value) {
          ids.pop_back();
          return;
        }
      }
      return;
    }
    // An event with many externalIds must not cost quadratic time.
    if (seen_.empty()) {
      for (size_t i = 0; i + 1 < ids.size(); ++i) seen_.insert(i);
    }
    if (!seen_.insert(ids.size() - 1).second) ids.pop_back();
  }

  void Warn(std::string warning) { out_.warnings.push_back(std::move(warning)); }

  // A string (or, where `integers` allows, an integer) at a known path is an identifier; other
  // values are reported.
  void AddValue(std::string_view type, Captured& value, std::string_view field, bool integers) {
    switch (value.kind) {
      case Captured::Kind::kAbsent:
      case Captured::Kind::kNull:
        return;
      case Captured::Kind::kString:
        Add(type, std::move(value.text), field);
        return;
      case Captured::Kind::kInteger:
        if (integers) {
          Add(type, std::move(value.text), field);
          return;
        }
        break;
      case Captured::Kind::kBool:
      case Captured::Kind::kOther:
        break;
    }
    Warn(std::string(field) +
         (integers ? ": expected a string or an integer, got " : ": expected a string, got ") +
         Describe(value));
  }

 private:
  static constexpr size_t kLinearLimit = 16;

  struct IndexHash {
    const std::vector<RawIdentifier>* ids;
    size_t operator()(size_t i) const {
      const RawIdentifier& id = (*ids)[i];
      return std::hash<std::string>()(id.type) * 31 + std::hash<std::string>()(id.value);
    }
  };
  struct IndexEqual {
    const std::vector<RawIdentifier>* ids;
    bool operator()(size_t a, size_t b) const {
      return (*ids)[a].type == (*ids)[b].type && (*ids)[a].value == (*ids)[b].value;
    }
  };

  ExtractedIdentifiers& out_;
  std::unordered_set<size_t, IndexHash, IndexEqual> seen_{0, IndexHash{&out_.identifiers},
                                                          IndexEqual{&out_.identifiers}};
};

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// "idfa", "gaid", or empty when the platform name says neither.
std::string_view AdvertisingType(std::string_view platform) {
  for (std::string_view apple : {"ios", "ipados", "tvos", "watchos", "iphone os"}) {
    if (EqualsIgnoringCase(platform, apple)) return id_type::kIdfa;
  }
  if (EqualsIgnoringCase(platform, "android")) return id_type::kGaid;
  return {};
}

// The text of a string-valued metadata member (os.name, device.type); other values are reported.
std::string_view TextOf(const Captured& value, std::string_view field, IdentifierList& list) {
  if (value.kind == Captured::Kind::kString) return value.text;
  if (value.kind != Captured::Kind::kAbsent && value.kind != Captured::Kind::kNull) {
    list.Warn(std::string(field) + ": expected a string, got " + Describe(value));
  }
  return {};
}

const std::string* TopLevelMember(const CanonicalEvent& event, MappingSource source) {
  switch (source) {
    case MappingSource::kUserId:
      return &event.user_id;
    case MappingSource::kAnonymousId:
      return &event.anonymous_id;
    case MappingSource::kEvent:
      return &event.event;
    case MappingSource::kName:
      return &event.name;
    case MappingSource::kCategory:
      return &event.category;
    case MappingSource::kGroupId:
      return &event.group_id;
    case MappingSource::kPreviousId:
      return &event.previous_id;
    case MappingSource::kMessageId:
      return &event.message_id;
    default:
      return nullptr;
  }
}

}  // namespace

struct IdentifierExtractor::Plan {
  DocumentPlan traits{"traits", {}, {}};
  DocumentPlan context{"context", {}, {}};
  DocumentPlan properties{"properties", {}, {}};
  DocumentPlan integrations{"integrations", {}, {}};
  std::vector<MappingPlan> mappings;
  size_t slot_count = kBuiltinSlotCount;
};

IdentifierExtractor::IdentifierExtractor(std::vector<IdentifierMapping> mappings) {
  auto plan = std::make_shared<Plan>();
  PathNode& traits = plan->traits.root;
  traits.ChildFor("email").slots.push_back(kTraitsEmail);
  traits.ChildFor("phone").slots.push_back(kTraitsPhone);
  PathNode& context = plan->context.root;
  PathNode& context_traits = context.ChildFor("traits");
  context_traits.ChildFor("email").slots.push_back(kContextTraitsEmail);
  context_traits.ChildFor("phone").slots.push_back(kContextTraitsPhone);
  PathNode& device = context.ChildFor("device");
  device.ChildFor("id").slots.push_back(kDeviceId);
  device.ChildFor("advertisingId").slots.push_back(kAdvertisingId);
  device.ChildFor("adTrackingEnabled").slots.push_back(kAdTrackingEnabled);
  device.ChildFor("type").slots.push_back(kDeviceType);
  context.ChildFor("os").ChildFor("name").slots.push_back(kOsName);
  context.ChildFor("locale").slots.push_back(kLocale);
  context.ChildFor("location").ChildFor("country").slots.push_back(kLocationCountry);
  context.ChildFor("externalIds").external_ids = true;

  struct Root {
    std::string_view name;
    MappingSource source;
  };
  static constexpr Root kRoots[] = {
      {"traits", MappingSource::kTraits},         {"context", MappingSource::kContext},
      {"properties", MappingSource::kProperties}, {"integrations", MappingSource::kIntegrations},
      {"userId", MappingSource::kUserId},         {"anonymousId", MappingSource::kAnonymousId},
      {"event", MappingSource::kEvent},           {"name", MappingSource::kName},
      {"category", MappingSource::kCategory},     {"groupId", MappingSource::kGroupId},
      {"previousId", MappingSource::kPreviousId}, {"messageId", MappingSource::kMessageId},
  };
  for (IdentifierMapping& mapping : mappings) {
    MappingPlan& mapped = plan->mappings.emplace_back();
    std::string_view field = mapping.field;
    const size_t dot = field.find('.');
    const std::string_view first = field.substr(0, dot);
    std::string_view rest = dot == std::string_view::npos ? std::string_view() : field.substr(dot + 1);
    for (const Root& root : kRoots) {
      if (root.name == first) mapped.source = root.source;
    }
    DocumentPlan* document = nullptr;
    switch (mapped.source) {
      case MappingSource::kTraits:
        document = &plan->traits;
        break;
      case MappingSource::kContext:
        document = &plan->context;
        break;
      case MappingSource::kProperties:
        document = &plan->properties;
        break;
      case MappingSource::kIntegrations:
        document = &plan->integrations;
        break;
      case MappingSource::kUnsupported:
        mapped.problem = mapping.field +
                         ": cannot map (the path must start with traits, context, properties, "
                         "integrations or a top-level string member)";
        break;
      default:
        if (dot != std::string_view::npos) {
          mapped.source = MappingSource::kUnsupported;
          mapped.problem = mapping.field + ": cannot map (" + std::string(first) + " is a string)";
        }
        break;
    }
    if (document != nullptr && dot == std::string_view::npos) {
      // The whole sub-document is an object, never an identifier.
      mapped.source = MappingSource::kUnsupported;
      mapped.problem = mapping.field + ": cannot map (name a member, e.g. " + mapping.field + ".id)";
      document = nullptr;
    }
    if (document != nullptr) {
      PathNode* node = &document->root;
      while (true) {
        const size_t next = rest.find('.');
        node = &node->ChildFor(rest.substr(0, next));
        if (next == std::string_view::npos) break;
        rest.remove_prefix(next + 1);
      }
      mapped.slot = plan->slot_count++;
      node->slots.push_back(mapped.slot);
    }
    mapped.mapping = std::move(mapping);
  }
  for (DocumentPlan* document : {&plan->traits, &plan->context, &plan->properties, &plan->integrations}) {
    document->root.CollectSlots(document->all_slots);
  }
  plan_ = std::move(plan);
}

ExtractedIdentifiers IdentifierExtractor::Extract(const CanonicalEvent& event) const {
  const Plan& plan = *plan_;
  thread_local Scratch scratch;
  scratch.Reset(plan.slot_count);

  ExtractedIdentifiers out;
  out.identifiers.reserve(8);
  // Only identify's traits describe the person (group's describe the group); the parser clears
  // them for the other types, but this does not rely on it.
  if (event.type == EventType::kIdentify && !event.traits.empty()) {
    WalkDocument(event.traits, plan.traits, scratch, out.warnings);
  }
  if (!event.context.empty()) WalkDocument(event.context, plan.context, scratch, out.warnings);
  if (!event.properties.empty() && !plan.properties.root.children.empty()) {
    WalkDocument(event.properties, plan.properties, scratch, out.warnings);
  }
  if (!event.integrations.empty() && !plan.integrations.root.children.empty()) {
    WalkDocument(event.integrations, plan.integrations, scratch, out.warnings);
  }

  IdentifierList list(out);
  std::vector<Captured>& slots = scratch.slots;
  list.Add(id_type::kUserId, event.user_id, "userId");
  list.Add(id_type::kAnonymousId, event.anonymous_id, "anonymousId");
  list.Add(kPreviousIdType, event.previous_id, "previousId");
  list.AddValue(id_type::kEmail, slots[kTraitsEmail], "traits.email", /*integers=*/false);
  list.AddValue(id_type::kPhone, slots[kTraitsPhone], "traits.phone", /*integers=*/true);
  list.AddValue(id_type::kEmail, slots[kContextTraitsEmail], "context.traits.email", /*integers=*/false);
  list.AddValue(id_type::kPhone, slots[kContextTraitsPhone], "context.traits.phone", /*integers=*/true);
  list.AddValue(id_type::kDeviceId, slots[kDeviceId], "context.device.id", /*integers=*/true);

  Captured& advertising_id = slots[kAdvertisingId];
  if (advertising_id.kind != Captured::Kind::kAbsent && advertising_id.kind != Captured::Kind::kNull &&
      !(advertising_id.kind == Captured::Kind::kString && advertising_id.text.empty())) {
    const Captured& tracking = slots[kAdTrackingEnabled];
    bool tracking_disabled = false;
    if (tracking.kind == Captured::Kind::kBool) {
      tracking_disabled = !tracking.flag;
    } else if (tracking.kind != Captured::Kind::kAbsent && tracking.kind != Captured::Kind::kNull) {
      list.Warn("context.device.adTrackingEnabled: expected true or false, got " + Describe(tracking));
    }
    if (!tracking_disabled) {
      std::string_view type = AdvertisingType(TextOf(slots[kOsName], "context.os.name", list));
      if (type.empty()) type = AdvertisingType(TextOf(slots[kDeviceType], "context.device.type", list));
      if (type.empty()) {
        list.Warn(
            "context.device.advertisingId: cannot tell an idfa from a gaid (neither context.os.name nor "
            "context.device.type names iOS or Android)");
      } else {
        list.AddValue(type, advertising_id, "context.device.advertisingId", /*integers=*/true);
      }
    }
  }

  if (slots[kLocale].kind == Captured::Kind::kString) out.locale = std::move(slots[kLocale].text);
  if (slots[kLocationCountry].kind == Captured::Kind::kString) {
    out.location_country = std::move(slots[kLocationCountry].text);
  }

  for (RawIdentifier& id : scratch.external_ids) list.Add(id.type, std::move(id.value), id.field);
  for (std::string& warning : scratch.external_warnings) list.Warn(std::move(warning));

  for (const MappingPlan& mapped : plan.mappings) {
    switch (mapped.source) {
      case MappingSource::kTraits:
      case MappingSource::kContext:
      case MappingSource::kProperties:
      case MappingSource::kIntegrations:
        list.AddValue(mapped.mapping.type, slots[mapped.slot], mapped.mapping.field, /*integers=*/true);
        break;
      case MappingSource::kUnsupported:
        list.Warn(mapped.problem);
        break;
      default:
        list.Add(mapped.mapping.type, *TopLevelMember(event, mapped.source), mapped.mapping.field);
        break;
    }
  }
  return out;
}

identity::PhoneContext PhoneContextOf(std::string_view space, std::string_view source,
                                      const ExtractedIdentifiers& extracted) {
  return identity::PhoneContext{
      .locale = extracted.locale, .country = extracted.location_country, .space = space, .source = source};
}

}  // namespace tessera::ingest
