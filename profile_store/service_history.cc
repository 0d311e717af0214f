#include "profile_store/service_history.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace tessera::profile_store {
namespace {

int64_t Micros(base::Timestamp time) { return time.time_since_epoch().count(); }

void PutTime(std::string& out, base::Timestamp time) { base::PutVarintSigned64(out, Micros(time)); }

bool ReadTime(base::ByteReader& reader, base::Timestamp& out) {
  int64_t micros = 0;
  if (!reader.ReadVarintSigned64(micros)) return false;
  out = base::Timestamp(std::chrono::microseconds(micros));
  return true;
}

bool TicketBefore(const ServiceTicket& ticket, std::string_view provider, std::string_view id) {
  return std::tie(ticket.provider, ticket.id) < std::tie(provider, id);
}

bool ContactBefore(const ServiceContact& a, const ServiceContact& b) {
  return std::tie(a.time, a.sequence, a.key) < std::tie(b.time, b.sequence, b.key);
}

// Takes `newer`'s state into `ticket` when it is the newer of the two (status always; subject and
// priority only when it has them: not every event repeats them).
void TakeNewer(ServiceTicket& ticket, std::string_view status, std::string_view subject, std::string_view priority,
               base::Timestamp time, uint64_t sequence) {
  ticket.opened_at = std::min(ticket.opened_at, time);
  if (std::tie(time, sequence) < std::tie(ticket.updated_at, ticket.sequence)) {
    // An older event still says what no newer one did.
    if (ticket.subject.empty()) ticket.subject = std::string(subject);
    if (ticket.priority.empty()) ticket.priority = std::string(priority);
    return;
  }
  ticket.updated_at = time;
  ticket.sequence = sequence;
  if (!status.empty()) ticket.status = std::string(status);
  if (!subject.empty()) ticket.subject = std::string(subject);
  if (!priority.empty()) ticket.priority = std::string(priority);
}

// The solved ticket updated longest ago goes first; open tickets only when every kept one is open.
void TrimTickets(std::vector<ServiceTicket>& tickets) {
  while (tickets.size() > ServiceHistory::kMaxEntries) {
    auto older = [](const ServiceTicket& a, const ServiceTicket& b) {
      const bool a_solved = IsSolvedTicketStatus(a.status), b_solved = IsSolvedTicketStatus(b.status);
      if (a_solved != b_solved) return a_solved;
      return std::tie(a.updated_at, a.sequence, a.provider, a.id) < std::tie(b.updated_at, b.sequence, b.provider, b.id);
    };
    tickets.erase(std::min_element(tickets.begin(), tickets.end(), older));
  }
}

void TrimRatings(std::vector<ServiceRating>& ratings) {
  while (ratings.size() > ServiceHistory::kMaxEntries) {
    ratings.erase(std::min_element(ratings.begin(), ratings.end(), [](const ServiceRating& a, const ServiceRating& b) {
      return std::tie(a.time, a.key) < std::tie(b.time, b.key);
    }));
  }
}

}  // namespace

bool IsSolvedTicketStatus(std::string_view status) {
  return status == "solved" || status == "closed" || status == "resolved" || status == "deleted" || status == "spam";
}

std::string TicketKey(std::string_view provider, std::string_view id) {
  std::string key = "ticket:";
  key.append(provider).append(":").append(id);
  return key;
}

void ServiceHistory::RecordTicket(std::string_view provider, std::string_view id, std::string_view status,
                                  std::string_view subject, std::string_view priority, base::Timestamp time,
                                  uint64_t sequence) {
  auto it = std::lower_bound(tickets.begin(), tickets.end(), std::pair(provider, id),
                             [](const ServiceTicket& ticket, const std::pair<std::string_view, std::string_view>& key) {
                               return TicketBefore(ticket, key.first, key.second);
                             });
  const bool known = it != tickets.end() && it->provider == provider && it->id == id;
  if (known && time >= it->opened_at) {
    TakeNewer(*it, status, subject, priority, time, sequence);
    return;
  }
  if (known) {
    TakeNewer(*it, status, subject, priority, time, sequence);
  } else {
    tickets.insert(it, ServiceTicket{.provider = std::string(provider), .id = std::string(id),
                                     .status = std::string(status), .subject = std::string(subject),
                                     .priority = std::string(priority), .opened_at = time, .updated_at = time,
                                     .sequence = sequence});
    TrimTickets(tickets);
  }
  // A new ticket, or an older event of a known one: the contact is when the ticket was opened.
  RecordContact(ServiceContact{.time = time, .sequence = sequence, .key = TicketKey(provider, id), .kind = "ticket",
                               .provider = std::string(provider), .outcome = "opened",
                               .reason = std::string(subject)});
}

void ServiceHistory::RecordContact(ServiceContact contact) {
  auto same = std::find_if(contacts.begin(), contacts.end(),
                           [&](const ServiceContact& kept) { return kept.key == contact.key; });
  if (same != contacts.end()) {
    if (!ContactBefore(contact, *same)) return;
    contacts.erase(same);
  }
  contacts.insert(std::upper_bound(contacts.begin(), contacts.end(), contact, ContactBefore), std::move(contact));
  if (contacts.size() > kMaxEntries) contacts.erase(contacts.begin());
}

void ServiceHistory::RecordRating(std::string_view key, uint8_t score, base::Timestamp time, uint64_t sequence) {
  auto it = std::lower_bound(ratings.begin(), ratings.end(), key,
                             [](const ServiceRating& rating, std::string_view wanted) { return rating.key < wanted; });
  if (it == ratings.end() || it->key != key) {
    ratings.insert(it, ServiceRating{.key = std::string(key), .time = time, .reported_at = time, .sequence = sequence,
                                     .score = score});
    TrimRatings(ratings);
    return;
  }
  if (std::tie(time, sequence) < std::tie(it->reported_at, it->sequence)) {
    // An older report of the score kept: it was given earlier than we knew.
    if (score == it->score) it->time = std::min(it->time, time);
    return;
  }
  if (score != it->score) it->time = time;
  it->reported_at = time;
  it->sequence = sequence;
  it->score = score;
}

void ServiceHistory::Merge(const ServiceHistory& other) {
  for (const ServiceTicket& theirs : other.tickets) {
    auto it = std::lower_bound(tickets.begin(), tickets.end(), theirs, [](const ServiceTicket& a, const ServiceTicket& b) {
      return TicketBefore(a, b.provider, b.id);
    });
    if (it != tickets.end() && it->provider == theirs.provider && it->id == theirs.id) {
      it->opened_at = std::min(it->opened_at, theirs.opened_at);
      TakeNewer(*it, theirs.status, theirs.subject, theirs.priority, theirs.updated_at, theirs.sequence);
    } else {
      tickets.insert(it, theirs);
    }
  }
  TrimTickets(tickets);
  for (const ServiceContact& contact : other.contacts) RecordContact(contact);
  for (const ServiceRating& theirs : other.ratings) {
    // The newest report wins; the score's first time is the earlier of the two when they agree.
    const base::Timestamp first = theirs.time;
    RecordRating(theirs.key, theirs.score, theirs.reported_at, theirs.sequence);
    auto it = std::lower_bound(ratings.begin(), ratings.end(), theirs.key,
                               [](const ServiceRating& rating, const std::string& wanted) { return rating.key < wanted; });
    if (it != ratings.end() && it->key == theirs.key && it->score == theirs.score) it->time = std::min(it->time, first);
  }
}

ServiceSummary ServiceHistory::Summarize(base::Timestamp since, base::Timestamp rated_since) const {
  ServiceSummary summary;
  for (const ServiceTicket& ticket : tickets) {
    ++(IsSolvedTicketStatus(ticket.status) ? summary.solved_tickets : summary.open_tickets);
  }
  if (!contacts.empty()) summary.last_contact = &contacts.back();
  for (const ServiceContact& contact : contacts) {
    if (contact.time < since) continue;
    ++summary.contacts;
    if (contact.kind == "call") ++summary.calls;
  }
  double total = 0;
  for (const ServiceRating& rating : ratings) {
    if (rating.time < rated_since) continue;
    ++summary.ratings;
    total += rating.score;
  }
  if (summary.ratings > 0) summary.satisfaction = total / static_cast<double>(summary.ratings);
  return summary;
}

// tickets: count, then provider, id, status, subject, priority, opened_at, updated_at, sequence;
// contacts: count, then time, sequence, key, kind, provider, direction, outcome, reason;
// ratings: count, then key, time, reported_at, sequence, score.
void ServiceHistory::Encode(std::string& out) const {
  base::PutVarint64(out, tickets.size());
  for (const ServiceTicket& ticket : tickets) {
    for (const std::string* text : {&ticket.provider, &ticket.id, &ticket.status, &ticket.subject, &ticket.priority}) {
      base::PutLengthPrefixed(out, *text);
    }
    PutTime(out, ticket.opened_at);
    PutTime(out, ticket.updated_at);
    base::PutVarint64(out, ticket.sequence);
  }
  base::PutVarint64(out, contacts.size());
  for (const ServiceContact& contact : contacts) {
    PutTime(out, contact.time);
    base::PutVarint64(out, contact.sequence);
    for (const std::string* text :
         {&contact.key, &contact.kind, &contact.provider, &contact.direction, &contact.outcome, &contact.reason}) {
      base::PutLengthPrefixed(out, *text);
    }
  }
  base::PutVarint64(out, ratings.size());
  for (const ServiceRating& rating : ratings) {
    base::PutLengthPrefixed(out, rating.key);
    PutTime(out, rating.time);
    PutTime(out, rating.reported_at);
    base::PutVarint64(out, rating.sequence);
    out.push_back(static_cast<char>(rating.score));
  }
}

bool ServiceHistory::Decode(base::ByteReader& reader) {
  uint64_t count = 0;
  if (!reader.ReadVarint64(count) || count > kMaxEntries) return false;
  tickets.assign(count, ServiceTicket());
  for (size_t i = 0; i < tickets.size(); ++i) {
    ServiceTicket& ticket = tickets[i];
    for (std::string* text : {&ticket.provider, &ticket.id, &ticket.status, &ticket.subject, &ticket.priority}) {
      if (!reader.ReadLengthPrefixed(*text)) return false;
    }
    if (!ReadTime(reader, ticket.opened_at) || !ReadTime(reader, ticket.updated_at) ||
        !reader.ReadVarint64(ticket.sequence) || ticket.updated_at < ticket.opened_at) {
      return false;
    }
    if (i > 0 && !TicketBefore(tickets[i - 1], ticket.provider, ticket.id)) return false;
  }
  if (!reader.ReadVarint64(count) || count > kMaxEntries) return false;
  contacts.assign(count, ServiceContact());
  for (size_t i = 0; i < contacts.size(); ++i) {
    ServiceContact& contact = contacts[i];
    if (!ReadTime(reader, contact.time) || !reader.ReadVarint64(contact.sequence)) return false;
    for (std::string* text :
         {&contact.key, &contact.kind, &contact.provider, &contact.direction, &contact.outcome, &contact.reason}) {
      if (!reader.ReadLengthPrefixed(*text)) return false;
    }
    if (i > 0 && !ContactBefore(contacts[i - 1], contact)) return false;
  }
  if (!reader.ReadVarint64(count) || count > kMaxEntries) return false;
  ratings.assign(count, ServiceRating());
  for (size_t i = 0; i < ratings.size(); ++i) {
    ServiceRating& rating = ratings[i];
    uint8_t score = 0;
    if (!reader.ReadLengthPrefixed(rating.key) || !ReadTime(reader, rating.time) ||
        !ReadTime(reader, rating.reported_at) || !reader.ReadVarint64(rating.sequence) || !reader.ReadByte(score) ||
        score > 1) {
      return false;
    }
    rating.score = score;
    if (i > 0 && !(ratings[i - 1].key < rating.key)) return false;
  }
  return true;
}

}  // namespace tessera::profile_store
