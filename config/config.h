#pragma once

// Tessera's typed configuration: loaded and validated once at start-up, then read-only.
// Every key of the JSON file is documented, with its default, in docs/config.md; the defaults
// below are the same values. Other components never see this struct directly: tools/ translates
// it into each component's own Options.

#include <chrono>
#include <map>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tessera::config {

// The channels a source may report for. They decide the per-channel summary of a profile.
inline constexpr std::string_view kChannels[] = {"web", "app", "pos", "email", "social", "server", "service"};

// How a POS CSV export maps onto events: connectors.csv, mirroring connectors::CsvMapping (the
// defaults are the same). Column names are header names; an empty one leaves the column unmapped.
// Whether the mapping is usable (formats, timezone, an identifier column) is checked by the
// connector when tools/ builds it, so that a bad one still stops start-up.
struct CsvMappingConfig {
  std::string receipt_id = "receipt_id";  // columns.receipt_id: required; becomes the message id.
  std::string loyalty_card = {};          // columns.loyalty_card: identifier of type loyalty_id.
  std::string phone = {};                 // columns.phone: context.traits.phone.
  std::string email = {};                 // columns.email: context.traits.email.
  std::string amount = {};                // columns.amount: properties.revenue and .total.
  std::string currency = {};              // columns.currency: properties.currency.
  std::string store = {};                 // columns.store: properties.store_id.
  std::string timestamp = "timestamp";    // columns.timestamp: required; when the sale happened.
  std::string default_currency = {};      // Used when there is no currency column or cell.
  std::string timestamp_format = "iso8601";  // "iso8601" or a strftime-like pattern.
  std::string timezone = "Z";             // Offset of timestamps that carry none.
  std::string event_name = "Order Completed";
  char decimal_separator = '.';           // '.' or ','.
  bool receipt_id_per_store = false;      // Message ids include the store.
};

// How a contact-centre export (calls, chats) maps onto events: connectors.contact_log, mirroring
// connectors::ContactLogMapping (the defaults are the same). Column names are header names; an
// empty one leaves the column unmapped. Usability (formats, timezone, an identifier column) is
// checked by the connector when tools/ builds it, as for CsvMappingConfig.
struct ContactLogMappingConfig {
  std::string contact_id = "contact_id";  // columns.contact_id: required; part of the message id.
  std::string started_at = "started_at";  // columns.started_at: required; when the contact began.
  std::string type = {};                  // columns.type: call, chat, email, sms or other.
  std::string direction = {};             // columns.direction: inbound or outbound.
  std::string duration = {};              // columns.duration: seconds, H:MM:SS or MM:SS.
  std::string phone = {};                 // columns.phone: context.traits.phone.
  std::string email = {};                 // columns.email: context.traits.email.
  std::string user_id = {};               // columns.user_id: userId.
  std::string customer_name = {};         // columns.customer_name: context.traits.name.
  std::string agent = {};                 // columns.agent: properties.agent.
  std::string queue = {};                 // columns.queue: properties.queue.
  std::string reason = {};                // columns.reason: properties.reason.
  std::string outcome = {};               // columns.outcome: the event name and properties.outcome.
  std::string satisfaction = {};          // columns.satisfaction: properties.satisfaction and .csat.
  std::string transcript = {};            // columns.transcript: properties.transcript.
  std::string notes = {};                 // columns.notes: properties.notes.
  std::string timestamp_format = "iso8601";  // "iso8601" or a strftime-like pattern.
  std::string timezone = "Z";             // Offset or IANA zone of timestamps that carry none.
  std::string default_type = "call";      // The type of rows without one.
  std::string system = "contact_log";     // properties.provider and part of the message id.
  std::string satisfaction_scale = "1-5";  // How numeric ratings read: "1-5" or "0-1".
};

// A source's settings for the channel connectors (POST /v1/connectors/...). A connector that is
// not configured for a source refuses its requests. Secrets never appear in error messages.
struct ConnectorSettings {
  std::string shopify_secret;        // connectors.shopify.secret: HMAC key of X-Shopify-Hmac-Sha256.
  std::string sendgrid_public_key;   // connectors.sendgrid.public_key: base64 DER (or PEM) P-256 key.
  std::string mailgun_signing_key;   // connectors.mailgun.signing_key.
  int64_t mailgun_max_age_seconds = 0;  // connectors.mailgun.max_age_seconds: older signatures refused; 0 = any.
  std::string meta_app_secret;       // connectors.meta.app_secret: HMAC key of X-Hub-Signature-256.
  std::string meta_verify_token;     // connectors.meta.verify_token: for the GET verification handshake.
  std::string zendesk_secret;        // connectors.zendesk.secret: HMAC key of X-Zendesk-Webhook-Signature.
  int64_t zendesk_max_age_seconds = 300;  // connectors.zendesk.max_age_seconds: older signatures refused; 0 = any.
  bool freshdesk_enabled = false;    // connectors.freshdesk present: Freshdesk webhooks accepted (write key).
  std::string freshdesk_secret;      // connectors.freshdesk.secret: also required in a header when set.
  std::string freshdesk_secret_header = "X-Webhook-Secret";  // connectors.freshdesk.header: that header.
  std::string twilio_auth_token;     // connectors.twilio_voice.auth_token: HMAC-SHA1 key of X-Twilio-Signature.
  std::string twilio_public_url;     // connectors.twilio_voice.public_url: the URL Twilio calls, no query.
  std::optional<CsvMappingConfig> csv = {};  // connectors.csv: POS CSV imports; unset refuses them.
  std::optional<ContactLogMappingConfig> contact_log = {};  // connectors.contact_log: contact-log imports.
};

// A write key bound to one space and one channel.
struct Source {
  std::string name;       // Human-readable, shown in metrics and on identities. Defaults to the channel.
  // Secret sent by the client (HTTP Basic username or body writeKey), or its digest
  // "sha256:<64 lowercase hex>" (config/key_digest.h).
  std::string write_key;
  std::string space = "default";
  std::string channel = "server";
  // Region for the source's phone numbers without a country code, after the event's own
  // context.locale and context.location.country and before identity.default_phone_region.
  // Empty: none. Sources of one space that share a name share it (events carry only the name).
  std::string phone_region = {};
  ConnectorSettings connectors = {};
  // Web pages that may send events with this key from a browser (CORS preflights and responses
  // of the tracking paths, the Origin of WebSocket streams); config/allowed_origin.h has the forms.
  // A request from a page of another origin is refused with 403, so a key copied onto another
  // site sends nothing. Requests without an Origin header (servers, apps) are not affected.
  std::vector<std::string> allowed_origins = {"*"};
  // Service sources: keep the free-text properties of their events (transcripts, ticket
  // descriptions and comments, notes; ingest/free_text.h) in the log. Off: they are removed before
  // an event is logged. Sources of other channels are not affected.
  bool keep_free_text = false;
};

struct ListenOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks an ephemeral port (printed at start).
};

// HTTPS (and wss) on the listener. Both files are PEM; they are loaded, and checked to belong
// together, when the server starts (api::LoadTlsContext), so a bad file stops start-up naming the key.
struct TlsOptions {
  std::string cert_file;            // tls.cert_file: the certificate chain, the server's own first.
  std::string key_file;             // tls.key_file: the private key of that certificate.
  std::string min_version = "1.2";  // tls.min_version: "1.2" or "1.3".
};

// Browsers calling the read and admin API (profiles, audiences, privacy, audit, backup) from a page
// of another origin. None by default: a CRM front end on another origin must be listed here.
struct CorsOptions {
  std::vector<std::string> api_origins;  // cors.api_origins, in the forms of config/allowed_origin.h.
};

struct LimitOptions {
  size_t max_event_bytes = 32 * 1024;     // One event's JSON; 413 beyond.
  size_t max_request_bytes = 500 * 1024;  // One request body; 413 beyond.
  size_t max_webhook_bytes = 4 << 20;     // One connector request body (webhook batches, CSV); 413 beyond.
  size_t max_header_bytes = 16 * 1024;    // All request headers together.
  std::chrono::milliseconds read_timeout{10'000};   // To receive a whole request (head and body) once it has begun.
  std::chrono::milliseconds idle_timeout{60'000};   // Keep-alive connection with no request.
  std::chrono::milliseconds write_timeout{10'000};  // To send a response.
  size_t max_connections = 10'000;                  // Beyond this, new connections are closed at once.
};

struct GroupCommitOptions {
  size_t max_batch_events = 20'000;        // Most events in one synced write.
  size_t max_batch_bytes = 32 << 20;       // Most encoded bytes in one synced write.
  std::chrono::microseconds max_delay{0};  // Extra wait for more requests before a small write.
  size_t queue_capacity_events = 200'000;  // Accepted-but-not-yet-written events; 503 beyond.
};

// WebSocket event streams (docs/streaming.md). Frames are limited by limits.max_request_bytes.
struct StreamOptions {
  size_t max_inflight_frames = 8;         // Frames read but not yet acknowledged, per connection.
  size_t max_inflight_bytes = 4 << 20;    // Their bytes, per connection.
  std::chrono::milliseconds idle_timeout{60'000};  // Nothing received for this long closes the stream.
  bool permessage_deflate = true;  // Offer compressed frames (RFC 7692) to clients that ask for them.
};

struct ThreadOptions {
  int io_threads = 2;  // Threads serving connections (parsing happens on them).
};

// Cluster mode on NATS JetStream (docs/cluster.md). A configuration without a "cluster" section
// is the embedded single process.
struct ClusterOptions {
  std::vector<std::string> nats_urls;     // nats://host:port of the NATS servers; at least one.
  std::vector<std::string> roles;         // Of "gateway", "resolver", "replica"; at least one.
  std::string name;                       // This process in leases and status (once serve runs roles).
  int stream_replicas = 3;                // Copies of each space's event stream (1, 3 or 5).
  std::chrono::seconds duplicate_window{120};        // JetStream's Nats-Msg-Id window (dedup.window_seconds
                                                     // covers longer spans).
  std::chrono::milliseconds publish_timeout{5'000};  // A publish without PubAck by then is answered 503.
  std::chrono::seconds lease_ttl{10};                // A resolver silent for this long loses its space.
  int64_t stream_max_bytes = -1;  // Each space's stream's size limit; -1: none set here (the operator's stays).
  size_t shed_at_percent = 95;  // A gateway answers 429 for a space whose stream is this full (of its limits).
};

struct StoreOptions {
  size_t block_cache_bytes = 256 << 20;   // Shared RocksDB block cache.
  size_t write_buffer_bytes = 64 << 20;   // Memtable size per column family.
  bool sync_writes = true;                // fsync the WAL before acknowledging. Only tests turn it off.
};

// Identity rules are consumed by the identity component (a later issue). They are parsed and
// validated here so that a bad rule stops start-up like any other bad key.
struct IdentifierRule {
  std::string type;                    // e.g. "user_id", "email".
  // Unset fields keep the type's built-in rule (identity/identity_rules.h).
  std::optional<int> priority;         // Higher wins when a merge is refused.
  std::optional<int> limit;            // Max distinct values per profile; 0 = unlimited.
  std::vector<std::string> blocked;    // Values that never link (in addition to the built-in ones).
};

// An extra source of identifiers: the value at `field` in an event is an identifier of `type`.
struct IdentifierMappingConfig {
  std::string type;   // Identifier type, [a-z0-9_]{1,64}, e.g. "loyalty_id".
  std::string field;  // Dotted path: "context.traits.loyaltyCard", "properties.loyalty_id", "userId".
};

struct IdentityOptions {
  std::string default_phone_region = "US";  // ISO 3166 region for numbers without a country code.
  std::vector<IdentifierRule> rules;         // Empty means the built-in defaults.
  // Identifiers taken from every event's fields, after the built-in ones.
  std::vector<IdentifierMappingConfig> identifier_mappings;
  // Values of any type that never link, besides the built-in ones.
  std::vector<std::string> blocked_values;
  // ECMAScript regular expressions; a normalized value matching one as a whole never links.
  std::vector<std::string> blocked_patterns;
  bool email_strip_plus_tag = false;        // "a+news@x.com" counts as "a@x.com" (every provider).
  bool email_strip_gmail_dots = false;      // "a.b@gmail.com" counts as "ab@gmail.com" (gmail/googlemail).
  size_t resolver_batch_events = 10000;     // Events the resolver applies per WriteBatch.
  size_t cache_entries = 1'000'000;         // Capacity of the identifier -> profile id cache.
  size_t profile_cache_entries = 100'000;   // Capacity of the profile cache.
};

// A computed trait or an audience defined in the config file (docs/audiences.md has the formats).
// They are validated with the audiences component when the server starts; here only the envelope.
struct DefinitionConfig {
  std::string space = "default";  // Must be the space of some source.
  std::string name;
  std::string json;  // The definition object without "space", minified.
};

struct AudienceSweepOptions {
  std::chrono::milliseconds interval{300'000};  // Re-evaluation of time-dependent audiences.
  size_t chunk_profiles = 2000;                 // Profiles per sweep batch.
};

// How long events are kept (docs/privacy.md). Profiles keep what they learned from older events.
struct RetentionOptions {
  std::chrono::seconds events{0};       // retention.events_seconds: 0 keeps events forever.
  std::chrono::seconds interval{3600};  // retention.interval_seconds: how often old events are removed.
};

// A destination (issue 23): what of a space goes where. The wire format of each type, its
// delivery and its options are activation/'s; config only reads and checks the envelope.
struct DestinationConfig {
  std::string name = {};       // Unique: 1 to 64 of a-z, 0-9, '_' and '-'.
  std::string space = "default";
  std::string type = {};       // webhook, meta_custom_audience, google_customer_match, sendgrid_contacts,
                               // mailgun_list, kakao_alimtalk, nats.
  std::string url = {};        // https:// (http:// is allowed, with a warning at start); the providers' default when empty.
  std::string secret = {};     // The webhook's signing secret, or the provider's token. Never logged.
  std::vector<std::string> event_types = {};  // events.types: track, identify, page, screen, group, alias.
  std::vector<std::string> event_names = {};  // events.names: only these track events (empty: all).
  std::vector<std::string> audiences = {};    // Audiences whose entries and exits are sent.
  std::string consent = {};    // A purpose every profile sent must have granted (empty: none required).
  size_t batch_events = 100;   // Events or changes per request, 1 to 10000.
  size_t requests_per_second = 10;             // At most, 1 to 10000.
  std::chrono::milliseconds timeout{10'000};   // Per request, 100 ms to 5 minutes.
  std::chrono::seconds dead_letter_after{86'400};  // Retried until then, 1 s to 30 days.
  std::string options_json = "{}";  // The type's own settings (audience ids, list ids, templates), minified.
  std::chrono::milliseconds retry_initial{500};  // retry.initial_ms: the first back-off's ceiling, 10 ms to 1 h.
  std::chrono::milliseconds retry_max{60'000};   // retry.max_ms: the longest back-off, >= initial, up to 1 h.
  std::string ca_file = {};  // PEM certificates an https url's server must chain to (empty: the system's).
  // free_text: the free-text properties (ingest/free_text.h) of service events this destination
  // is sent; the others are removed from them first. Empty: none.
  std::vector<std::string> free_text = {};
};

// Purchases and the purchase models of one space (docs/prediction.md): which events are
// purchases and what they are worth, in which currency and on whose calendar, and how the models
// are refitted and discount. A space without an entry uses these defaults.
struct PurchaseConfig {
  std::string space = "default";
  std::vector<std::string> events = {"Order Completed"};  // Track event names.
  // Dotted paths from the event root; the first that holds a number is the purchase's value.
  std::vector<std::string> value_properties = {"properties.revenue", "properties.total", "properties.value"};
  std::string currency = {};      // ISO 4217, e.g. "KRW"; empty: purchases count whatever currency they name.
  std::string time_zone = "UTC";  // Whose calendar days count: a fixed offset or an IANA zone.
  double monthly_discount_rate = 0.01;          // For CLV, 0 to 1.
  std::chrono::seconds refit_interval{86'400};  // How long the latest fit serves before the next.
};

// Duplicate profiles of one space (docs/duplicates.md): which traits hold the person fields, the
// model that scores pairs, and probabilistic auto-merge. A space without an entry uses these
// defaults: the index is kept, the built-in model scores, nothing is merged.
struct MatchingConfig {
  std::string space = "default";
  bool enabled = true;                // Keep the duplicate index and answer /duplicates for the space.
  double auto_merge_probability = 0;  // 0: never merge; otherwise in (0.5, 1].
  std::string model = {};             // Path of a model written by `tessera match --model`; empty: built in.
  std::string model_json = {};        // That file's text, read with the config (an unreadable one stops start-up).
  size_t max_block = 200;             // Blocks with more profiles are skipped when looking for candidates.
  // traits: person field (name, first_name, last_name, birth_date, email, phone, city, postcode,
  // address) -> the trait names that hold it, replacing that field's default list.
  std::map<std::string, std::vector<std::string>> traits = {};
};

// Encryption at rest (docs/encryption.md). Exactly one source of master keys; setting it turns
// encryption on. Keys are 32 random bytes written as 64 hex characters, the current key first and
// older ones (still needed until `tessera keys rewrap`) after it. The keys themselves are read by
// config/master_keys.h when the store opens, never kept in Config.
struct EncryptionOptions {
  std::string key_file = {};     // A file of keys, one per line; mode 0600 (or 0400), owned by the service user.
  std::string key_env = {};      // An environment variable holding the keys, separated by commas or spaces.
  std::string key_command = {};  // A command, run by /bin/sh -c, printing the keys one per line (a KMS or vault agent).
};

struct Config {
  ListenOptions listen;
  std::optional<TlsOptions> tls;  // Unset: plain HTTP.
  CorsOptions cors;
  std::string data_dir = "./data";
  std::vector<Source> sources;
  std::vector<std::string> read_keys;   // Each a secret or its "sha256:" digest, like write_key.
  std::vector<std::string> admin_keys;  // Ditto; a key in both lists is an admin key.
  std::chrono::seconds dedup_window{24 * 3600};
  LimitOptions limits;
  GroupCommitOptions group_commit;
  StreamOptions stream;
  ThreadOptions threads;
  StoreOptions store;
  IdentityOptions identity;
  std::vector<DefinitionConfig> computed_traits;
  std::vector<DefinitionConfig> audiences;
  AudienceSweepOptions audience_sweep;
  RetentionOptions retention;
  std::optional<ClusterOptions> cluster;  // Unset: the embedded single process.
  std::optional<EncryptionOptions> encryption;  // Unset: the store's files are plain.
  std::vector<DestinationConfig> destinations;  // Empty: nothing is pushed anywhere.
  std::vector<PurchaseConfig> purchases;         // By space; unlisted spaces use the defaults.
  std::vector<MatchingConfig> matching;          // By space; unlisted spaces use the defaults.
  std::chrono::seconds shutdown_grace{10};  // How long SIGTERM waits for in-flight requests.
};

// Parses and validates a configuration document. Errors name the key and the reason, e.g.
// `InvalidArgument("sources[1].channel: \"tv\" is not one of web, app, pos, email, social, server")`.
// Unknown keys are errors too: a typo must not silently fall back to a default.
absl::StatusOr<Config> ParseConfig(std::string_view json);

// Reads and parses a configuration file.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

}  // namespace tessera::config
