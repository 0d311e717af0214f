#include "connectors/shopify.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "base/json_writer.h"
#include "base/time.h"
#include "connectors/internal/text.h"
#include "connectors/signatures.h"
#include "simdjson.h"

namespace tessera::connectors {
namespace {

namespace dom = simdjson::dom;
using base::JsonWriter;
using ingest::FieldError;

FieldError MakeError(std::string_view code, std::string field, std::string message) {
  return FieldError{std::string(code), std::move(message), std::move(field)};
}

std::string JoinPath(std::string_view prefix, std::string_view name) {
  std::string path(prefix);
  if (!path.empty() && !name.empty() && name.front() != '[') path.push_back('.');
  path.append(name);
  return path;
}

std::string_view DescribeType(dom::element_type type) {
  switch (type) {
    case dom::element_type::OBJECT:
      return "an object";
    case dom::element_type::ARRAY:
      return "an array";
    case dom::element_type::STRING:
      return "a string";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
      return "an integer";
    case dom::element_type::DOUBLE:
      return "a number";
    case dom::element_type::BOOL:
      return "a boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "an unknown value";
}

FieldError TypeError(std::string path, std::string_view expected, dom::element value) {
  std::string message = "expected ";
  message.append(expected);
  message.append(", got ");
  message.append(DescribeType(value.type()));
  return MakeError(ingest::error_code::kInvalidType, std::move(path), std::move(message));
}

std::string_view StripWhitespace(std::string_view text) {
  const absl::string_view stripped = absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
  return std::string_view(stripped.data(), stripped.size());
}

// Reads the members of one JSON object, naming each by its path for errors. Null and absent
// members are alike. Every Read* returns false with `error` set when the member is unusable.
class ObjectReader {
 public:
  ObjectReader(dom::object object, std::string path) : object_(object), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view name) const { return JoinPath(path_, name); }

  std::optional<dom::element> Get(std::string_view name) const {
    dom::element value;
    if (object_[name].get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
    return value;
  }

  // A string member; empty when absent or null.
  bool ReadString(std::string_view name, std::string& out, FieldError& error) const {
    out.clear();
    const std::optional<dom::element> value = Get(name);
    if (!value) return true;
    std::string_view text;
    if (value->get(text) != simdjson::SUCCESS) {
      error = TypeError(PathOf(name), "a string", *value);
      return false;
    }
    out.assign(text);
    return true;
  }

  // An id: an integer (Shopify's ids) or a string, as decimal text; empty when absent or null.
  bool ReadId(std::string_view name, std::string& out, FieldError& error) const {
    out.clear();
    const std::optional<dom::element> value = Get(name);
    if (!value) return true;
    int64_t signed_id = 0;
    uint64_t unsigned_id = 0;
    std::string_view text;
    if (value->get(signed_id) == simdjson::SUCCESS) {
      out = std::to_string(signed_id);
    } else if (value->get(unsigned_id) == simdjson::SUCCESS) {
      out = std::to_string(unsigned_id);
    } else if (value->get(text) == simdjson::SUCCESS) {
      out.assign(text);
    } else {
      error = TypeError(PathOf(name), "an integer id or a string", *value);
      return false;
    }
    return true;
  }

  bool ReadInteger(std::string_view name, std::optional<int64_t>& out, FieldError& error) const {
    out.reset();
    const std::optional<dom::element> value = Get(name);
    if (!value) return true;
    int64_t number = 0;
    if (value->get(number) != simdjson::SUCCESS) {
      error = TypeError(PathOf(name), "an integer", *value);
      return false;
    }
    out = number;
    return true;
  }

  // Money: Shopify's decimal strings ("199.00"); plain JSON numbers are accepted too.
  bool ReadMoney(std::string_view name, std::optional<double>& out, FieldError& error) const {
    out.reset();
    const std::optional<dom::element> value = Get(name);
    if (!value) return true;
    std::string_view text;
    double number = 0;
    if (value->get(text) == simdjson::SUCCESS) {
      out = internal::ParseDecimal(StripWhitespace(text));
      if (!out) {
        error = MakeError(ingest::error_code::kInvalidValue, PathOf(name),
                          "expected a decimal amount such as \"199.00\", got " + internal::QuoteForError(text));
        return false;
      }
      return true;
    }
    if (value->get(number) == simdjson::SUCCESS) {
      out = number;
      return true;
    }
    error = TypeError(PathOf(name), "a decimal amount such as \"199.00\"", *value);
    return false;
  }

  bool ReadTimestamp(std::string_view name, std::optional<ingest::Timestamp>& out, FieldError& error) const {
    out.reset();
    const std::optional<dom::element> value = Get(name);
    if (!value) return true;
    std::string_view text;
    if (value->get(text) != simdjson::SUCCESS) {
      std::string message = "expected an ISO-8601 date-time such as \"2008-01-10T11:00:00-05:00\", got ";
      message.append(DescribeType(value->type()));
      error = MakeError(ingest::error_code::kInvalidTimestamp, PathOf(name), std::move(message));
      return false;
    }
    out = base::ParseIso8601(text);
    if (!out) {
      error = MakeError(
          ingest::error_code::kInvalidTimestamp, PathOf(name),
          "expected an ISO-8601 date-time such as \"2008-01-10T11:00:00-05:00\", got " + internal::QuoteForError(text));
      return false;
    }
    return true;
  }

  bool ReadObject(std::string_view name, std::optional<ObjectReader>& out, FieldError& error) const {
    out.reset();
    const std::optional<dom::element> value = Get(name);
    if (!value) return true;
    dom::object object;
    if (value->get(object) != simdjson::SUCCESS) {
      error = TypeError(PathOf(name), "an object", *value);
      return false;
    }
    out.emplace(object, PathOf(name));
    return true;
  }

  bool ReadArray(std::string_view name, std::optional<dom::array>& out, FieldError& error) const {
    out.reset();
    const std::optional<dom::element> value = Get(name);
    if (!value) return true;
    dom::array array;
    if (value->get(array) != simdjson::SUCCESS) {
      error = TypeError(PathOf(name), "an array", *value);
      return false;
    }
    out = array;
    return true;
  }

 private:
  dom::object object_;
  std::string path_;
};

// The first non-empty string among `candidates` (object, member name); null objects are skipped.
bool FirstString(std::initializer_list<std::pair<const ObjectReader*, std::string_view>> candidates,
                 std::string& out, FieldError& error) {
  out.clear();
  for (const auto& [object, name] : candidates) {
    if (object == nullptr) continue;
    if (!object->ReadString(name, out, error)) return false;
    if (!out.empty()) return true;
  }
  return true;
}

void WriteOptionalMoney(JsonWriter& writer, std::string_view key, const std::optional<double>& value) {
  if (value) writer.Key(key).Double(*value);
}

// products[] from line_items[]: writes the array, or fails naming the bad line item's field.
bool WriteProducts(JsonWriter& writer, const ObjectReader& order, FieldError& error) {
  std::optional<dom::array> line_items;
  if (!order.ReadArray("line_items", line_items, error)) return false;
  if (!line_items) return true;
  writer.Key("products").BeginArray();
  size_t index = 0;
  for (dom::element item : *line_items) {
    const std::string path = order.PathOf("line_items[" + std::to_string(index++) + "]");
    dom::object item_object;
    if (item.get(item_object) != simdjson::SUCCESS) {
      error = TypeError(path, "a line item object", item);
      return false;
    }
    const ObjectReader line(item_object, path);
    std::string product_id, sku, name, variant;
    std::optional<double> price;
    std::optional<int64_t> quantity;
    if (!line.ReadId("product_id", product_id, error) || !line.ReadString("sku", sku, error) ||
        !FirstString({{&line, "name"}, {&line, "title"}}, name, error) ||
        !line.ReadString("variant_title", variant, error) || !line.ReadMoney("price", price, error) ||
        !line.ReadInteger("quantity", quantity, error)) {
      return false;
    }
    writer.BeginObject();
    if (!product_id.empty()) writer.Key("product_id").String(product_id);
    if (!sku.empty()) writer.Key("sku").String(sku);
    if (!name.empty()) writer.Key("name").String(name);
    WriteOptionalMoney(writer, "price", price);
    if (quantity) writer.Key("quantity").Int(*quantity);
    if (!variant.empty()) writer.Key("variant").String(variant);
    writer.EndObject();
  }
  writer.EndArray();
  return true;
}

// Fills `event` from the order, or returns the error naming the field.
std::optional<FieldError> TranslateOrder(const ObjectReader& order, ingest::Timestamp received_at,
                                         ingest::CanonicalEvent& event) {
  FieldError error;
  std::string id;
  if (!order.ReadId("id", id, error)) return error;
  if (id.empty()) {
    return MakeError(ingest::error_code::kMissingField, order.PathOf("id"),
                     "the order has no \"id\"; expected Shopify's order id");
  }

  // Identity first: an order nobody can be found by is refused before anything else is built.
  std::optional<ObjectReader> customer, billing, shipping, client_details;
  if (!order.ReadObject("customer", customer, error) ||
      !order.ReadObject("billing_address", billing, error) ||
      !order.ReadObject("shipping_address", shipping, error) ||
      !order.ReadObject("client_details", client_details, error)) {
    return error;
  }
  const ObjectReader* customer_ptr = customer ? &*customer : nullptr;
  const ObjectReader* billing_ptr = billing ? &*billing : nullptr;
  const ObjectReader* shipping_ptr = shipping ? &*shipping : nullptr;
  std::string customer_id, email, phone, first_name, last_name, ip, user_agent;
  if (customer && !customer->ReadId("id", customer_id, error)) return error;
  if (!FirstString({{&order, "email"}, {&order, "contact_email"}, {customer_ptr, "email"}}, email, error) ||
      !FirstString(
          {{&order, "phone"}, {customer_ptr, "phone"}, {billing_ptr, "phone"}, {shipping_ptr, "phone"}},
          phone, error) ||
      !FirstString({{customer_ptr, "first_name"}, {billing_ptr, "first_name"}}, first_name, error) ||
      !FirstString({{customer_ptr, "last_name"}, {billing_ptr, "last_name"}}, last_name, error) ||
      !FirstString({{&order, "browser_ip"}, {client_details ? &*client_details : nullptr, "browser_ip"}}, ip,
                   error) ||
      (client_details && !client_details->ReadString("user_agent", user_agent, error))) {
    return error;
  }
  if (customer_id.empty() && email.empty() && phone.empty()) {
    return MakeError(
        ingest::error_code::kMissingIdentity, order.PathOf("customer"),
        "the order has no customer.id, email nor phone; expected at least one to identify the buyer");
  }

  std::optional<ingest::Timestamp> processed_at, created_at;
  if (!order.ReadTimestamp("processed_at", processed_at, error) ||
      !order.ReadTimestamp("created_at", created_at, error)) {
    return error;
  }

  std::string checkout_id, currency, source_name;
  std::optional<int64_t> order_number;
  std::optional<double> total, subtotal, tax, discount;
  if (!order.ReadId("checkout_id", checkout_id, error) ||
      !order.ReadInteger("order_number", order_number, error) ||
      !order.ReadString("currency", currency, error) ||
      !order.ReadString("source_name", source_name, error) || !order.ReadMoney("total_price", total, error) ||
      !order.ReadMoney("subtotal_price", subtotal, error) || !order.ReadMoney("total_tax", tax, error) ||
      !order.ReadMoney("total_discounts", discount, error)) {
    return error;
  }

  std::optional<double> shipping_total;
  std::optional<dom::array> shipping_lines;
  if (!order.ReadArray("shipping_lines", shipping_lines, error)) return error;
  if (shipping_lines) {
    shipping_total = 0.0;
    size_t index = 0;
    for (dom::element line : *shipping_lines) {
      const std::string path = order.PathOf("shipping_lines[" + std::to_string(index++) + "]");
      dom::object line_object;
      if (line.get(line_object) != simdjson::SUCCESS) return TypeError(path, "a shipping line object", line);
      std::optional<double> price;
      if (!ObjectReader(line_object, path).ReadMoney("price", price, error)) return error;
      if (price) *shipping_total += *price;
    }
  }

  std::string coupon;
  std::optional<dom::array> discount_codes;
  if (!order.ReadArray("discount_codes", discount_codes, error)) return error;
  if (discount_codes && discount_codes->size() > 0) {
    const std::string path = order.PathOf("discount_codes[0]");
    dom::element first;
    dom::object first_object;
    if (discount_codes->at(0).get(first) != simdjson::SUCCESS ||
        first.get(first_object) != simdjson::SUCCESS) {
      return TypeError(path, "a discount code object", first);
    }
    if (!ObjectReader(first_object, path).ReadString("code", coupon, error)) return error;
  }

  std::string properties;
  JsonWriter writer(properties);
  writer.BeginObject();
  writer.Key("order_id").String(id);
  if (!checkout_id.empty()) writer.Key("checkout_id").String(checkout_id);
  if (order_number) writer.Key("order_number").Int(*order_number);
  WriteOptionalMoney(writer, "total", total);
  WriteOptionalMoney(writer, "subtotal", subtotal);
  WriteOptionalMoney(writer, "revenue", subtotal);
  WriteOptionalMoney(writer, "tax", tax);
  WriteOptionalMoney(writer, "discount", discount);
  WriteOptionalMoney(writer, "shipping", shipping_total);
  if (!coupon.empty()) writer.Key("coupon").String(coupon);
  if (!currency.empty()) writer.Key("currency").String(currency);
  if (!source_name.empty()) writer.Key("source_name").String(source_name);
  if (!WriteProducts(writer, order, error)) return error;
  writer.EndObject();

  std::string context;
  JsonWriter context_writer(context);
  context_writer.BeginObject();
  if (!customer_id.empty()) {
    context_writer.Key("externalIds").BeginArray().BeginObject();
    context_writer.Key("id").String(customer_id).Key("type").String("shopify_customer_id");
    context_writer.Key("collection").String("users").Key("encoding").String("none");
    context_writer.EndObject().EndArray();
  }
  context_writer.Key("traits").BeginObject();
  if (!email.empty()) context_writer.Key("email").String(email);
  if (!phone.empty()) context_writer.Key("phone").String(phone);
  if (!first_name.empty()) context_writer.Key("firstName").String(first_name);
  if (!last_name.empty()) context_writer.Key("lastName").String(last_name);
  context_writer.EndObject();
  if (!ip.empty()) context_writer.Key("ip").String(ip);
  if (!user_agent.empty()) context_writer.Key("userAgent").String(user_agent);
  context_writer.EndObject();

  event.message_id = "shopify-order-" + id;
  event.type = ingest::EventType::kTrack;
  event.event = "Order Completed";
  event.properties = std::move(properties);
  event.context = std::move(context);
  event.received_at = received_at;
  event.original_timestamp = processed_at ? processed_at : created_at;
  event.timestamp = event.original_timestamp.value_or(received_at);
  return std::nullopt;
}

}  // namespace

absl::StatusOr<ingest::ParsedRequest> TranslateShopifyOrder(const WebhookRequest& request,
                                                            const ShopifyOptions& options) {
  if (options.secret.empty()) {
    return absl::UnauthenticatedError(
        "shopify: no secret configured for this source; every webhook is refused");
  }
  const std::string_view header = request.header(kShopifyHmacHeader);
  const std::string_view signature = StripWhitespace(header);
  if (signature.empty()) return absl::UnauthenticatedError("shopify: missing X-Shopify-Hmac-Sha256 header");
  const std::string digest = HmacSha256(options.secret, request.body);
  const std::string expected = absl::Base64Escape(absl::string_view(digest.data(), digest.size()));
  if (!ConstantTimeEquals(expected, signature)) {
    return absl::UnauthenticatedError(
        "shopify: X-Shopify-Hmac-Sha256 does not match the body (wrong secret, or the body was altered)");
  }

  ingest::ParsedRequest result;
  result.event_count = 1;
  thread_local dom::parser parser;
  dom::element root;
  if (const auto e = parser.parse(request.body.data(), request.body.size(), true).get(root)) {
    result.request_error =
        MakeError(ingest::error_code::kInvalidJson, "",
                  request.body.empty() ? "the body is empty; expected a JSON order object"
                                       : std::string("not valid JSON (") + simdjson::error_message(e) +
                                             "); expected a JSON order object");
    return result;
  }
  dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    result.request_error = TypeError("", "an order object", root);
    return result;
  }
  // The REST API's {"order":{...}} wrapper: the order is inside.
  std::string path;
  dom::object wrapped;
  if (object["id"].error() == simdjson::NO_SUCH_FIELD && object["order"].get(wrapped) == simdjson::SUCCESS) {
    object = wrapped;
    path = "order";
  }

  ingest::CanonicalEvent event;
  if (std::optional<FieldError> error =
          TranslateOrder(ObjectReader(object, path), request.received_at, event)) {
    result.request_error = std::move(*error);
    return result;
  }
  result.events.push_back(std::move(event));
  result.index_of.push_back(0);
  return result;
}

}  // namespace tessera::connectors
