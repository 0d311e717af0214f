#pragma once

// The words customers' ratings come in, shared by the helpdesk webhooks
// (connectors/helpdesk_webhooks.cc) and the contact-log import (connectors/contact_log_csv.cc),
// so that "satisfied" means good wherever it comes from (internal to connectors/).

#include <string_view>

namespace tessera::connectors::internal {

// "good" or "bad" for a rating word as Zendesk, Freshdesk and contact-centre exports write it
// ("good", "awesome", "satisfied", "not good", "dissatisfied", ...); `lowered` must already be
// lower-case. Empty for any other text.
std::string_view SatisfactionFromWord(std::string_view lowered);

}  // namespace tessera::connectors::internal
