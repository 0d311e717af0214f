// The providers' wire formats beyond the webhook's and Meta's, each checked against the shape of
// the request its public documentation shows, with the hashes checked against `sha256sum` of the
// normalized values:
// - Google Ads Customer Match: offlineUserDataJobs:create, {job}:addOperations, {job}:run, each
//   with Authorization, developer-token and login-customer-id.
// - SendGrid Marketing Contacts: PUT /v3/marketing/contacts; removal by search/emails then
//   DELETE /v3/marketing/lists/{id}/contacts?contact_ids=... (or the contacts, after erasure).
// - Mailgun lists: POST /v3/lists/{list}/members.json with members=[...]&upsert=yes under
//   `--user api:KEY`; DELETE /v3/lists/{list}/members/{address} per address.
// - NHN Cloud's AlimTalk v2.3 and SMS v3.0 messages, and their 200-with-isSuccessful:false refusal.
// - A NATS subject's messages and their ids.

#include <gtest/gtest.h>

#include "activation/request_format.h"
#include "simdjson.h"
#include "tests/activation/format_test_support.h"

namespace tessera::activation {
namespace {

// What printf '%s' VALUE | sha256sum printed for the normalized values.
constexpr std::string_view kJaneEmailSha256 = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d";
constexpr std::string_view kGooglePhoneSha256 = "2efdd01fdf56e3f07de56acd9d40beb256d5983aec5f6d597c2c48354f35f9e0";  // +821012345678
// printf '%s' 'api:key-3ax6xnjp29jd6fds4gc373sgvjxteol0' | base64 (the key of Mailgun's examples).
constexpr std::string_view kMailgunBasic = "Basic YXBpOmtleS0zYXg2eG5qcDI5amQ2ZmRzNGdjMzczc2d2anh0ZW9sMA==";

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1765000000));

std::string Header(const OutgoingRequest& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "<absent>";
}

OutgoingRequest Only(const absl::StatusOr<std::optional<OutgoingRequest>>& result) {
  EXPECT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result.ok() && result->has_value());
  return result.ok() && result->has_value() ? **result : OutgoingRequest{};
}

OutgoingRequest Next(const OutgoingRequest& request, int status, std::string body) {
  EXPECT_TRUE(request.next != nullptr);
  if (!request.next) return {};
  return Only(request.next(HttpResponse{.status = status, .body = std::move(body), .retry_after = {}}));
}

DestinationSpec Spec(DestinationType type, std::string options, std::string secret) {
  DestinationSpec spec;
  spec.name = "dest";
  spec.type = type;
  spec.secret = std::move(secret);
  spec.audiences = {"vip"};
  spec.options_json = std::move(options);
  if (spec.url.empty()) spec.url = DefaultUrl(spec);
  return spec;
}

const std::vector<std::pair<std::string, std::string>> kJane = {
    {"email", "Jane.Doe@Example.com "}, {"phone", "+821012345678"}, {"user_id", "u-1"}};

TEST(GoogleCustomerMatchFormatTest, OneJobOfThreeCallsWithHashedIdentifiers) {
  DestinationSpec spec = Spec(DestinationType::kGoogleCustomerMatch,
                              R"({"customer_id":"123-456-7890","user_list_id":"987654","developer_token":"dev-tok",)"
                              R"("login_customer_id":"111-222-3333"})",
                              "ya29.token");
  spec.consent = "advertising";
  ASSERT_TRUE(ValidateDestination(spec).ok()) << ValidateDestination(spec);
  const HttpUrl url = *ParseHttpUrl(spec.url);
  EXPECT_EQ(url.host, "googleads.googleapis.com");
  const RequestContext context{spec, url, kNow, "dest-1-2"};

  const OutgoingRequest create = Only(FormatRequest(context, {Member(OutboxKind::kAudienceEntered, kJane)}));
  EXPECT_EQ(create.method, "POST");
  EXPECT_EQ(create.target, "/v26/customers/1234567890/offlineUserDataJobs:create");
  EXPECT_EQ(create.body,
            R"({"job":{"type":"CUSTOMER_MATCH_USER_LIST","customerMatchUserListMetadata":)"
            R"({"userList":"customers/1234567890/userLists/987654",)"
            R"("consent":{"adUserData":"GRANTED","adPersonalization":"GRANTED"}}}})");
  EXPECT_EQ(Header(create, "Authorization"), "Bearer ya29.token");
  EXPECT_EQ(Header(create, "developer-token"), "dev-tok");
  EXPECT_EQ(Header(create, "login-customer-id"), "1112223333");

  const OutgoingRequest add = Next(create, 200, R"({"resourceName":"customers/1234567890/offlineUserDataJobs/555"})");
  EXPECT_EQ(add.target, "/v26/customers/1234567890/offlineUserDataJobs/555:addOperations");
  EXPECT_EQ(add.body, R"({"enablePartialFailure":true,"operations":[{"create":{"userIdentifiers":[)"
                      R"({"hashedEmail":")" + std::string(kJaneEmailSha256) + R"("},)"
                      R"({"hashedPhoneNumber":")" + std::string(kGooglePhoneSha256) + R"("}]}}]})");
  EXPECT_EQ(Header(add, "developer-token"), "dev-tok");

  const OutgoingRequest run = Next(add, 200, "{}");
  EXPECT_EQ(run.target, "/v26/customers/1234567890/offlineUserDataJobs/555:run");
  EXPECT_EQ(run.body, "{}");
  EXPECT_TRUE(run.next == nullptr) << "the run is the last call";

  // Exits are removals in a job of their own; a job name that is not one is refused.
  const OutgoingRequest removal = Only(FormatRequest(context, {Member(OutboxKind::kAudienceExited, kJane)}));
  const OutgoingRequest remove = Next(removal, 200, R"({"resourceName":"customers/1234567890/offlineUserDataJobs/9"})");
  EXPECT_NE(remove.body.find(R"("operations":[{"remove":{"userIdentifiers")"), std::string::npos) << remove.body;
  ASSERT_TRUE(removal.next != nullptr);
  EXPECT_FALSE(removal.next(HttpResponse{.status = 200, .body = R"({"resourceName":"customers/1/../x"})",
                                         .retry_after = {}}).ok());
  EXPECT_FALSE(removal.next(HttpResponse{.status = 200, .body = "not json", .retry_after = {}}).ok());
}

TEST(GoogleCustomerMatchFormatTest, NoConsentBlockWithoutAPurposeAndNothingWithoutIdentifiers) {
  const DestinationSpec spec = Spec(DestinationType::kGoogleCustomerMatch,
                                    R"({"customer_id":"1234567890","user_list_id":"1","developer_token":"d"})", "t");
  const HttpUrl url = *ParseHttpUrl(spec.url);
  const RequestContext context{spec, url, kNow, "k"};
  const OutgoingRequest create = Only(FormatRequest(context, {Member(OutboxKind::kAudienceEntered, kJane)}));
  EXPECT_EQ(create.body.find("consent"), std::string::npos);
  EXPECT_EQ(Header(create, "login-customer-id"), "<absent>");
  absl::StatusOr<std::optional<OutgoingRequest>> nothing =
      FormatRequest(context, {Member(OutboxKind::kAudienceEntered, {{"user_id", "u-9"}})});
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
}

TEST(SendgridContactsFormatTest, AddsContactsToTheListAndRemovesThemByTheirIds) {
  const DestinationSpec spec = Spec(DestinationType::kSendgridContacts,
                                    R"({"list_id":"057204d4-755b-4364-a0d1-6a0b1c7e3f5a"})", "SG.key");
  ASSERT_TRUE(ValidateDestination(spec).ok());
  const HttpUrl url = *ParseHttpUrl(spec.url);
  EXPECT_EQ(url.host, "api.sendgrid.com");
  const RequestContext context{spec, url, kNow, "dest-3-4"};
  OutboxItem jane = Member(OutboxKind::kAudienceEntered, {{"email", "jane.doe@example.com"}, {"user_id", "u-1"}});
  jane.user_id = "u-1";
  jane.traits_json = R"({"firstName":"Jane","last_name":"Doe","plan":"pro"})";
  const OutgoingRequest put = Only(FormatRequest(context, {jane}));
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.target, "/v3/marketing/contacts");
  EXPECT_EQ(put.body, R"({"list_ids":["057204d4-755b-4364-a0d1-6a0b1c7e3f5a"],"contacts":[)"
                      R"({"email":"jane.doe@example.com","first_name":"Jane","last_name":"Doe","external_id":"u-1"}]})");
  EXPECT_EQ(Header(put, "Authorization"), "Bearer SG.key");

  OutboxItem leaving = Member(OutboxKind::kAudienceExited, {{"email", "jane.doe@example.com"}, {"email", "j@x.kr"}});
  const OutgoingRequest search = Only(FormatRequest(context, {leaving}));
  EXPECT_EQ(search.method, "POST");
  EXPECT_EQ(search.target, "/v3/marketing/contacts/search/emails");
  EXPECT_EQ(search.body, R"({"emails":["jane.doe@example.com","j@x.kr"]})");
  const OutgoingRequest remove = Next(
      search, 200,
      R"({"result":{"jane.doe@example.com":{"contact":{"id":"46a1d1a7-5d4a-4c8e","email":"jane.doe@example.com"}},)"
      R"("j@x.kr":{"error":"contact not found"}}})");
  EXPECT_EQ(remove.method, "DELETE");
  EXPECT_EQ(remove.target,
            "/v3/marketing/lists/057204d4-755b-4364-a0d1-6a0b1c7e3f5a/contacts?contact_ids=46a1d1a7-5d4a-4c8e");
  EXPECT_TRUE(remove.body.empty());
  // None of them known (SendGrid answers 404): nothing more to do.
  EXPECT_EQ(search.also_success, std::vector<int>{404});
  absl::StatusOr<std::optional<OutgoingRequest>> none =
      search.next(HttpResponse{.status = 404, .body = R"({"errors":[{"message":"No contacts found"}]})", .retry_after = {}});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  // After an erasure the contact itself is deleted, in a request of its own.
  leaving.reason = "erased";
  const OutboxItem plain_exit = Member(OutboxKind::kAudienceExited, {{"email", "a@b.co"}});
  EXPECT_EQ(RequestPrefix(spec, {leaving, plain_exit}), 1u);
  EXPECT_EQ(RequestPrefix(spec, {plain_exit, plain_exit, leaving}), 2u);
  const OutgoingRequest forget = Next(
      Only(FormatRequest(context, {leaving})), 200,
      R"({"result":{"jane.doe@example.com":{"contact":{"id":"46a1d1a7-5d4a-4c8e"}}}})");
  EXPECT_EQ(forget.target, "/v3/marketing/contacts?ids=46a1d1a7-5d4a-4c8e");
}

TEST(MailgunListFormatTest, BulkAddsMembersAndRemovesThemOneByOne) {
  const DestinationSpec spec =
      Spec(DestinationType::kMailgunList, R"({"list":"vip@mg.example.com"})", "key-3ax6xnjp29jd6fds4gc373sgvjxteol0");
  ASSERT_TRUE(ValidateDestination(spec).ok());
  const HttpUrl url = *ParseHttpUrl(spec.url);
  EXPECT_EQ(url.host, "api.mailgun.net");
  const RequestContext context{spec, url, kNow, "dest-5-6"};
  OutboxItem jane = Member(OutboxKind::kAudienceEntered, {{"email", "jane.doe@example.com"}});
  jane.user_id = "u-1";
  jane.traits_json = R"({"name":"Jane Doe"})";
  const OutgoingRequest add = Only(FormatRequest(context, {jane}));
  EXPECT_EQ(add.method, "POST");
  EXPECT_EQ(add.target, "/v3/lists/vip@mg.example.com/members.json");
  EXPECT_EQ(add.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(Header(add, "Authorization"), kMailgunBasic);
  EXPECT_EQ(FormField(add.body, "members"),
            R"([{"address":"jane.doe@example.com","name":"Jane Doe","vars":{"tessera_profile":"p0000000000000007",)"
            R"("user_id":"u-1"},"subscribed":true}])");
  EXPECT_EQ(FormField(add.body, "upsert"), "yes");

  const OutboxItem first = Member(OutboxKind::kAudienceExited, {{"email", "jane.doe@example.com"}});
  const OutboxItem second = Member(OutboxKind::kAudienceExited, {{"email", "kim+news@example.kr"}});
  const OutgoingRequest remove_first = Only(FormatRequest(context, {first, second}));
  EXPECT_EQ(remove_first.method, "DELETE");
  EXPECT_EQ(remove_first.target, "/v3/lists/vip@mg.example.com/members/jane.doe@example.com");
  EXPECT_EQ(remove_first.also_success, std::vector<int>{404});
  const OutgoingRequest remove_second = Next(remove_first, 404, R"({"message":"Member not found"})");
  EXPECT_EQ(remove_second.target, "/v3/lists/vip@mg.example.com/members/kim%2Bnews@example.kr");
  EXPECT_TRUE(remove_second.next == nullptr) << "the last address ends the exchange";
}

TEST(KakaoMessageFormatTest, AlimtalkToKoreanMobilesWithTemplateParameters) {
  DestinationSpec spec = Spec(DestinationType::kKakaoAlimtalk,
                              R"({"app_key":"AbC123","sender_key":"sender-1","template_code":"WELCOME_01",)"
                              R"("parameters":{"name":"traits.name","order":"properties.order_id","aud":"properties.audience"}})",
                              "nhn-secret");
  spec.event_types = {"track"};
  ASSERT_TRUE(ValidateDestination(spec).ok()) << ValidateDestination(spec);
  const HttpUrl url = *ParseHttpUrl(spec.url);
  EXPECT_EQ(url.host, "api-alimtalk.cloud.toast.com");
  const RequestContext context{spec, url, kNow, "dest-7-9"};
  OutboxItem order;
  order.kind = OutboxKind::kEvent;
  order.message_id = "m-1";
  order.event_json = R"({"type":"track","event":"Order Completed","properties":{"order_id":"A-100","revenue":129000}})";
  order.identifiers = {{"phone", "+15551234567"}, {"phone", "+821012345678"}};
  order.traits_json = R"({"name":"김민준"})";
  OutboxItem entered = Member(OutboxKind::kAudienceEntered, {{"phone", "+821099998888"}});
  entered.message_id = "aud-1";
  OutboxItem no_phone = Member(OutboxKind::kAudienceEntered, {{"email", "x@y.kr"}});
  EXPECT_EQ(RequestPrefix(spec, {order, entered, Member(OutboxKind::kAudienceExited, {})}), 2u);
  const OutgoingRequest send = Only(FormatRequest(context, {order, entered, no_phone}));
  EXPECT_EQ(send.target, "/alimtalk/v2.3/appkeys/AbC123/messages");
  EXPECT_EQ(send.content_type, "application/json;charset=UTF-8");
  EXPECT_EQ(Header(send, "X-Secret-Key"), "nhn-secret");
  EXPECT_EQ(send.body,
            R"({"senderKey":"sender-1","templateCode":"WELCOME_01","recipientList":[)"
            R"({"recipientNo":"01012345678","templateParameter":{"name":"김민준","order":"A-100","aud":""},"recipientGroupingKey":"m-1"},)"
            R"({"recipientNo":"01099998888","templateParameter":{"name":"","order":"","aud":"vip"},"recipientGroupingKey":"aud-1"}]})");

  // The gateway answers 200 even when it refuses: isSuccessful decides.
  ASSERT_TRUE(send.next != nullptr);
  absl::StatusOr<std::optional<OutgoingRequest>> accepted = send.next(HttpResponse{
      .status = 200, .body = R"({"header":{"resultCode":0,"resultMessage":"SUCCESS","isSuccessful":true}})", .retry_after = {}});
  ASSERT_TRUE(accepted.ok());
  EXPECT_FALSE(accepted->has_value());
  absl::StatusOr<std::optional<OutgoingRequest>> refused = send.next(HttpResponse{
      .status = 200, .body = R"({"header":{"resultCode":-1004,"resultMessage":"Invalid template","isSuccessful":false}})",
      .retry_after = {}});
  EXPECT_EQ(refused.status().message(), "the gateway refused the request: resultCode -1004: Invalid template");

  // Exits send nothing.
  absl::StatusOr<std::optional<OutgoingRequest>> exits =
      FormatRequest(context, {Member(OutboxKind::kAudienceExited, {{"phone", "+821012345678"}})});
  ASSERT_TRUE(exits.ok());
  EXPECT_FALSE(exits->has_value());
}

TEST(KakaoMessageFormatTest, SmsChannelUsesTheSmsApi) {
  const DestinationSpec spec = Spec(DestinationType::kKakaoAlimtalk,
                                    R"({"channel":"sms","app_key":"AbC123","send_no":"0212345678",)"
                                    R"("body":"##name##님, 쿠폰이 도착했습니다","parameters":{"name":"traits.name"}})",
                                    "nhn-secret");
  ASSERT_TRUE(ValidateDestination(spec).ok()) << ValidateDestination(spec);
  EXPECT_EQ(spec.url, "https://api-sms.cloud.toast.com");
  const HttpUrl url = *ParseHttpUrl(spec.url);
  OutboxItem entered = Member(OutboxKind::kAudienceEntered, {{"phone", "+821012345678"}});
  entered.message_id = "aud-2";
  entered.traits_json = R"({"name":"민준"})";
  const OutgoingRequest send = Only(FormatRequest(RequestContext{spec, url, kNow, "k"}, {entered}));
  EXPECT_EQ(send.target, "/sms/v3.0/appKeys/AbC123/sender/sms");
  EXPECT_EQ(send.body, R"({"body":"##name##님, 쿠폰이 도착했습니다","sendNo":"0212345678","recipientList":[)"
                       R"({"recipientNo":"01012345678","templateParameter":{"name":"민준"},"recipientGroupingKey":"aud-2"}]})");
}

TEST(NatsSubjectFormatTest, OneMessagePerItemWithIdsStableAcrossRetries) {
  DestinationSpec spec = Spec(DestinationType::kNats, R"({"subject":"tessera.shop.events","jetstream":true})", "");
  spec.url = "nats://127.0.0.1:4222";
  spec.space = "shop";
  spec.event_types = {"track"};
  ASSERT_TRUE(ValidateDestination(spec).ok());
  OutboxItem event;
  event.log_sequence = 42;
  event.event_json = R"({"type":"track","event":"Signed Up"})";
  OutboxItem entered = Member(OutboxKind::kAudienceEntered, {});
  entered.message_id = "aud-3";
  const OutgoingRequest publish = Only(FormatRequest(RequestContext{spec, HttpUrl{}, kNow, "k"}, {event, entered}));
  EXPECT_EQ(publish.target, "tessera.shop.events");
  ASSERT_EQ(publish.messages.size(), 2u);
  EXPECT_EQ(publish.messages[0].id, "shop:42");
  EXPECT_EQ(publish.messages[0].body, event.event_json);
  EXPECT_EQ(publish.messages[1].id, "aud-3");
  simdjson::dom::parser parser;
  std::string_view name;
  ASSERT_EQ(parser.parse(publish.messages[1].body)["event"].get(name), simdjson::SUCCESS);
  EXPECT_EQ(name, "Audience Entered");
  EXPECT_EQ(RequestPrefix(spec, {event, entered, Member(OutboxKind::kAudienceExited, {})}), 3u);

  // Issue 26: a service event's free text is published only when the destination names it.
  OutboxItem ticket;
  ticket.log_sequence = 43;
  ticket.event_json = R"({"type":"track","channel":"service","properties":{"ticket_id":"9","comment":"call me"}})";
  EXPECT_EQ(Only(FormatRequest(RequestContext{spec, HttpUrl{}, kNow, "k"}, {ticket})).messages[0].body,
            R"({"type":"track","channel":"service","properties":{"ticket_id":"9"}})");
  spec.free_text = {"comment"};
  EXPECT_EQ(Only(FormatRequest(RequestContext{spec, HttpUrl{}, kNow, "k"}, {ticket})).messages[0].body,
            ticket.event_json);
}

TEST(ProviderFormatsTest, EachTypeNamesTheSettingItLacks) {
  struct Case {
    DestinationType type;
    std::string options;
    std::string secret;
    std::string message;
  };
  const std::vector<Case> cases = {
      {DestinationType::kGoogleCustomerMatch, R"({"user_list_id":"1","developer_token":"d"})", "t",
       "options.customer_id: the Google Ads customer id is required"},
      {DestinationType::kGoogleCustomerMatch, R"({"customer_id":"12a","user_list_id":"1","developer_token":"d"})", "t",
       "options.customer_id: digits (dashes allowed)"},
      {DestinationType::kGoogleCustomerMatch, R"({"customer_id":"12","user_list_id":"1"})", "t",
       "options.developer_token: the Google Ads developer token is required"},
      {DestinationType::kGoogleCustomerMatch, R"({"customer_id":"12","user_list_id":"1","developer_token":"d"})", "",
       "secret: the OAuth access token is required (or options.oauth)"},
      {DestinationType::kGoogleCustomerMatch,
       R"({"customer_id":"12","user_list_id":"1","developer_token":"d","oauth":{"client_id":"c","refresh_token":"r"}})", "",
       "options.oauth.client_secret: required (a string)"},
      {DestinationType::kSendgridContacts, R"({})", "k", "options.list_id: the Marketing Contacts list's id is required"},
      {DestinationType::kSendgridContacts, R"({"list_id":"a/b"})", "k",
       "options.list_id: the list's id (letters, digits and '-')"},
      {DestinationType::kSendgridContacts, R"({"list_id":"abc"})", "", "secret: the SendGrid API key is required"},
      {DestinationType::kMailgunList, R"({"list":"no-at-sign"})", "k",
       "options.list: the mailing list's address (name@domain)"},
      {DestinationType::kMailgunList, R"({"list":7})", "k", "options.list: the mailing list's address must be a string"},
      {DestinationType::kKakaoAlimtalk, R"({"app_key":"a","sender_key":"s"})", "k",
       "options.template_code: the approved template's code is required"},
      {DestinationType::kKakaoAlimtalk, R"({"channel":"fax","app_key":"a"})", "k",
       "options.channel: \"alimtalk\" (the default) or \"sms\""},
      {DestinationType::kKakaoAlimtalk, R"({"channel":"sms","app_key":"a","send_no":"02"})", "k",
       "options.body: the message text is required"},
      {DestinationType::kKakaoAlimtalk, R"({"app_key":"a","sender_key":"s","template_code":"t","parameters":{"x":1}})",
       "k", "options.parameters.x: a path such as \"traits.name\""},
      {DestinationType::kNats, R"({"subject":"orders.*"})", "",
       "options.subject: dot-separated tokens without wildcards or spaces"},
      {DestinationType::kNats, R"({"subject":"a.b","jetstream":"yes"})", "", "options.jetstream: must be true or false"},
      {DestinationType::kNats, R"([1])", "", "options: not a JSON object"},
  };
  for (const Case& test : cases) {
    DestinationSpec spec = Spec(test.type, test.options, test.secret);
    EXPECT_EQ(ValidateDestination(spec).message(), test.message) << test.options;
  }
  DestinationSpec events = Spec(DestinationType::kSendgridContacts, R"({"list_id":"abc"})", "k");
  events.event_types = {"track"};
  EXPECT_EQ(ValidateDestination(events).message(), "events: a SendGrid list takes audience entries and exits only");
}

}  // namespace
}  // namespace tessera::activation
