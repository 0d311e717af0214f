#pragma once

// ServiceHistory: what a profile keeps of a person's contacts with customer service (the `service`
// channel: helpdesk tickets, calls, chats; docs/connectors.md names the events), so that the
// profile API, the console and the service computed traits (open tickets, last contact, average
// satisfaction) read it without reading events again.
//
// It holds the person's tickets (their newest status, subject and priority), their contacts
// (one per ticket, call or logged contact, with its reason) and their satisfaction ratings (the
// newest per ticket or contact). Contacts and ratings are keyed by what they are about, so a call
// reported by several status callbacks, or a ticket updated ten times, counts once. Each list is
// bounded (kMaxEntries): beyond it, the solved ticket updated longest ago, the oldest contact and
// the oldest rating go first.
//
// Like the rest of the profile it is derived state: a deterministic function of the service events
// and their log order (resolve/service_recorder.h records them), merged by Merge and rebuilt by
// replaying the log. It holds no free text but ticket subjects and contact reasons.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/time.h"

namespace tessera::profile_store {

struct ServiceTicket {
  std::string provider = {};  // "zendesk", "freshdesk", a contact-log system, ...
  std::string id = {};        // The provider's ticket id.
  std::string status = {};    // Lower-cased, as the newest event said ("open", "pending", "solved", ...).
  std::string subject = {};
  std::string priority = {};
  base::Timestamp opened_at{};   // Event time of its oldest event.
  base::Timestamp updated_at{};  // Event time of its newest event.
  uint64_t sequence = 0;         // Log sequence of its newest event (ties between equal times).
  friend bool operator==(const ServiceTicket&, const ServiceTicket&) = default;
};

struct ServiceContact {
  base::Timestamp time{};
  uint64_t sequence = 0;
  std::string key = {};        // What it is about: "ticket:<provider>:<id>", "call:<provider>:<id>", ...
  std::string kind = {};       // "ticket", "call", "chat", "email", "sms", "other".
  std::string provider = {};
  std::string direction = {};  // "inbound", "outbound" or empty.
  std::string outcome = {};    // "completed", "missed", "not_connected", "opened" (tickets).
  std::string reason = {};     // The stated reason, else the ticket subject or the call queue.
  friend bool operator==(const ServiceContact&, const ServiceContact&) = default;
};

struct ServiceRating {
  std::string key = {};  // The ticket's or contact's key.
  base::Timestamp time{};  // When this score was first reported (a repeat of it keeps the time).
  base::Timestamp reported_at{};  // The newest report of it (decides which report is newest).
  uint64_t sequence = 0;          // Log sequence of that report.
  uint8_t score = 0;  // 1 satisfied ("good"), 0 not.
  friend bool operator==(const ServiceRating&, const ServiceRating&) = default;
};

// The figures the API and the computed traits read at one moment.
struct ServiceSummary {
  uint64_t open_tickets = 0;
  uint64_t solved_tickets = 0;
  const ServiceContact* last_contact = nullptr;  // Points into the history; null without contacts.
  uint64_t calls = 0;     // Contacts of kind "call" at or after `since`.
  uint64_t contacts = 0;  // Contacts of any kind at or after `since`.
  uint64_t ratings = 0;   // Ratings at or after `rated_since`.
  std::optional<double> satisfaction;  // Their average score, 0 to 1.
};

// Whether a ticket in `status` is closed for good: solved, closed, resolved, deleted, spam.
bool IsSolvedTicketStatus(std::string_view status);

struct ServiceHistory {
  static constexpr size_t kMaxEntries = 256;

  std::vector<ServiceTicket> tickets;    // By (provider, id).
  std::vector<ServiceContact> contacts;  // By (time, sequence, key), oldest first; keys unique.
  std::vector<ServiceRating> ratings;    // By key.

  bool empty() const { return tickets.empty() && contacts.empty() && ratings.empty(); }

  // A ticket event: creates the ticket (and its contact) or, when the event is the newest the
  // ticket has seen, takes its status and, when given, subject and priority.
  void RecordTicket(std::string_view provider, std::string_view id, std::string_view status,
                    std::string_view subject, std::string_view priority, base::Timestamp time, uint64_t sequence);
  // A contact; one already kept under `contact.key` keeps the older of the two.
  void RecordContact(ServiceContact contact);
  // A satisfaction score (0 or 1) about `key`; the newest report per key counts.
  void RecordRating(std::string_view key, uint8_t score, base::Timestamp time, uint64_t sequence);
  // Adds `other`'s history (a merged profile's) as if its events had been recorded here.
  void Merge(const ServiceHistory& other);

  // Figures at a moment: contacts and calls at or after `since`, ratings at or after `rated_since`.
  ServiceSummary Summarize(base::Timestamp since, base::Timestamp rated_since) const;

  // Storage inside the profile record (profile_codec.cc): Encode appends, Decode reads exactly what
  // Encode wrote and returns false on damage (order, bounds, counts past the bytes).
  void Encode(std::string& out) const;
  bool Decode(base::ByteReader& reader);

  friend bool operator==(const ServiceHistory&, const ServiceHistory&) = default;
};

// The key of a ticket's contact and rating.
std::string TicketKey(std::string_view provider, std::string_view id);

}  // namespace tessera::profile_store
