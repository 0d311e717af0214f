#include "api/service_history_json.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <tuple>
#include <string>
#include <vector>

namespace tessera::api {
namespace {

using profile_store::ServiceRating;
using profile_store::ServiceTicket;

constexpr std::chrono::days kContactDays{30};
constexpr std::chrono::days kRatingDays{90};

void WriteTime(base::JsonWriter& json, std::string_view key, base::Timestamp time) {
  json.Key(key).String(base::FormatIso8601(time));
}

void WriteOptionalText(base::JsonWriter& json, std::string_view key, const std::string& text) {
  json.Key(key);
  if (text.empty()) {
    json.Null();
  } else {
    json.String(text);
  }
}

const ServiceRating* FindRating(const std::vector<ServiceRating>& ratings, const std::string& key) {
  auto it = std::lower_bound(ratings.begin(), ratings.end(), key,
                             [](const ServiceRating& rating, const std::string& wanted) { return rating.key < wanted; });
  return it != ratings.end() && it->key == key ? &*it : nullptr;
}

}  // namespace

void WriteServiceHistory(base::JsonWriter& json, const profile_store::ServiceHistory& service, base::Timestamp now) {
  const profile_store::ServiceSummary contacts = service.Summarize(now - kContactDays, now - kRatingDays);
  json.BeginObject();
  json.Key("openTickets").Uint(contacts.open_tickets);
  json.Key("solvedTickets").Uint(contacts.solved_tickets);
  std::vector<const ServiceTicket*> newest_first;
  newest_first.reserve(service.tickets.size());
  for (const ServiceTicket& ticket : service.tickets) newest_first.push_back(&ticket);
  std::sort(newest_first.begin(), newest_first.end(), [](const ServiceTicket* a, const ServiceTicket* b) {
    return std::tie(b->updated_at, b->sequence, a->provider, a->id) < std::tie(a->updated_at, a->sequence, b->provider, b->id);
  });
  json.Key("tickets").BeginArray();
  for (const ServiceTicket* ticket : newest_first) {
    json.BeginObject();
    json.Key("provider").String(ticket->provider);
    json.Key("id").String(ticket->id);
    json.Key("status").String(ticket->status);
    json.Key("open").Bool(!profile_store::IsSolvedTicketStatus(ticket->status));
    WriteOptionalText(json, "subject", ticket->subject);
    WriteOptionalText(json, "priority", ticket->priority);
    WriteTime(json, "openedAt", ticket->opened_at);
    WriteTime(json, "updatedAt", ticket->updated_at);
    json.Key("satisfaction");
    const ServiceRating* rating = FindRating(service.ratings, profile_store::TicketKey(ticket->provider, ticket->id));
    if (rating == nullptr) {
      json.Null();
    } else {
      json.String(rating->score == 1 ? "good" : "bad");
    }
    json.EndObject();
  }
  json.EndArray();
  json.Key("lastContact");
  if (const profile_store::ServiceContact* last = contacts.last_contact; last == nullptr) {
    json.Null();
  } else {
    json.BeginObject();
    WriteTime(json, "at", last->time);
    json.Key("kind").String(last->kind);
    json.Key("provider").String(last->provider);
    WriteOptionalText(json, "direction", last->direction);
    json.Key("outcome").String(last->outcome);
    WriteOptionalText(json, "reason", last->reason);
    json.EndObject();
  }
  json.Key("calls30d").Uint(contacts.calls);
  json.Key("contacts30d").Uint(contacts.contacts);
  json.Key("csatAvg90d");
  if (contacts.satisfaction) {
    json.Double(std::round(*contacts.satisfaction * 1000) / 1000);
  } else {
    json.Null();
  }
  json.Key("ratings90d").Uint(contacts.ratings);
  json.EndObject();
}

}  // namespace tessera::api
