#pragma once

// The service channel's call connector: Twilio Voice status callbacks (StatusCallback of a call or
// of a <Dial>ed leg), recording status callbacks and transcription callbacks (<Record transcribe
// transcribeCallback>), translated into one canonical track event per
// callback, on the profile of the customer's phone number. See connectors/connector.h for the
// conventions every connector follows.
//
// Input: application/x-www-form-urlencoded POST parameters as Twilio sends them: CallSid,
// AccountSid, From, To, Direction (inbound, outbound-api, outbound-dial, ...), CallStatus (queued,
// initiated, ringing, in-progress, completed, busy, failed, no-answer, canceled), CallDuration
// (seconds), Timestamp (RFC 2822, "Mon, 16 Aug 2010 03:45:01 +0000"), CallerName, QueueSid, and for
// recordings RecordingSid, RecordingStatus, RecordingDuration, RecordingUrl, RecordingStartTime, for
// transcriptions TranscriptionSid, TranscriptionStatus (completed, failed) and TranscriptionText.
//
// Signature: X-Twilio-Signature must be base64(HMAC-SHA1(auth token, URL + every POST parameter
// sorted by name (then value), each as name + value)), as Twilio documents
// (https://www.twilio.com/docs/usage/security#validating-requests). URL is the full URL Twilio
// called, query string included: `public_url` + "?" + the raw query of the request. As Twilio's own
// SDKs do, the URL with its port removed and with the scheme's default port added are accepted too.
// Without `public_url` the URL is rebuilt from X-Forwarded-Proto (else https, then http, are both
// tried), X-Forwarded-Host (else Host) and `request_path`: right only when every proxy in front
// passes those headers through unchanged, hence public_url is the recommended setting.
//
// The event:
//   name        CallStatus completed -> "Call Completed"; busy, no-answer, failed, canceled of an
//               inbound call -> "Call Missed", of an outbound call -> "Call Not Connected"; any other
//               status (queued, ringing, in-progress, unknown ones) -> "Call Status Changed";
//               a recording callback (RecordingSid) -> "Call Recording Completed" (RecordingStatus
//               completed or absent) or "Call Recording Status Changed"; a transcription
//               callback (TranscriptionSid, checked first: it names its recording too) -> "Call
//               Transcription Completed" (TranscriptionStatus completed) or "Call Transcription
//               Status Changed".
//   message_id  "twilio-<CallSid>-<CallStatus>", for recordings "twilio-<CallSid>-<RecordingSid>"
//               (plus "-<RecordingStatus>" unless completed), for transcriptions
//               "twilio-<CallSid>-<TranscriptionSid>": each status of a call is stored once.
//   timestamp   Timestamp, else RecordingStartTime, else received_at.
//   properties  provider "twilio", call_sid, account_sid, direction, status, duration_seconds,
//               from, to, caller_name, queue, queue_sid, agent (queue and agent: POST parameters or
//               query parameters of the callback URL, which is where custom values travel),
//               recording_sid, recording_status, recording_duration, recording_url,
//               transcription_sid, transcription_status, transcript (TranscriptionText: free text,
//               which the pipeline removes before the event is logged unless the source has
//               keep_free_text; ingest/free_text.h).
//   context     traits.phone: the customer's number, From for inbound calls and To for outbound
//               ones, as Twilio writes it (normalization happens downstream, in the source's or
//               the default phone region); "client:" and "sip:" addresses are no phone numbers and
//               are left out. externalIds [{"type":"twilio_call_sid","id":CallSid}] always, so that
//               a recording callback (which carries no numbers) joins the profile of its call.
//
// Errors (an OK result with request_error): invalid_value "body" (not form-encoded: a bad %-escape),
// missing_field "CallSid", missing_field "CallStatus" (neither it, RecordingSid nor
// TranscriptionSid), invalid_value
// "CallDuration" / "RecordingDuration" (not a non-negative integer), invalid_timestamp "Timestamp".
//
// Thread-safety: the functions are reentrant.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "connectors/connector.h"
#include "ingest/segment_parser.h"

namespace tessera::connectors {

inline constexpr std::string_view kTwilioSignatureHeader = "X-Twilio-Signature";

struct TwilioVoiceOptions {
  // The account's auth token (the HMAC key). Empty: every request is refused (Unauthenticated).
  std::string auth_token;
  // The URL configured in Twilio for the callback, without its query string, e.g.
  // "https://cdp.example.com/v1/connectors/service/twilio-voice". Empty: rebuilt from the headers.
  std::string public_url = {};
  // The path the request came to, for rebuilding the URL when public_url is empty.
  std::string request_path = {};
};

// A form parameter, decoded.
using FormParam = std::pair<std::string, std::string>;

// Decodes an application/x-www-form-urlencoded body ('+' is a space, %XX a byte); nullopt on a bad
// %-escape. Empty names and values are kept as Twilio sends them.
std::optional<std::vector<FormParam>> DecodeForm(std::string_view body);

// base64(HMAC-SHA1(auth_token, url + name1 + value1 + name2 + value2 ...)) with the parameters
// sorted by name then value, identical pairs once, as Twilio's SDKs compute it.
std::string TwilioSignature(std::string_view auth_token, std::string_view url, std::vector<FormParam> params);

// Verifies and translates one callback.
absl::StatusOr<ingest::ParsedRequest> TranslateTwilioVoiceCallback(const WebhookRequest& request,
                                                                   const TwilioVoiceOptions& options);

}  // namespace tessera::connectors
