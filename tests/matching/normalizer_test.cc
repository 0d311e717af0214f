#include "matching/normalizer.h"

#include <gtest/gtest.h>

#include "matching/string_metrics.h"

namespace tessera::matching {
namespace {

class NormalizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = Normalizer::Create();
    ASSERT_TRUE(created.ok()) << created.status();
    normalizer_ = std::move(*created);
  }
  std::unique_ptr<Normalizer> normalizer_;
};

TEST_F(NormalizerTest, NamesInLatinHangulAndCaseMeet) {
  EXPECT_EQ(normalizer_->Name("Kim Min-jun"), "kimminjun");
  EXPECT_EQ(normalizer_->Name("KIM MINJUN"), "kimminjun");
  const std::string hangul = normalizer_->Name("김민준");
  EXPECT_FALSE(hangul.empty());
  for (char c : hangul) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << hangul;
  // ICU romanizes 김 as "gim": close enough for the Jaro-Winkler levels, not exact.
  EXPECT_GE(JaroWinkler(hangul, "kimminjun"), 0.88) << hangul;
  EXPECT_EQ(normalizer_->Name("  José  Müller-Lüdenscheidt "), "josemullerludenscheidt");
  EXPECT_EQ(normalizer_->Name("O'Brien"), "obrien");
}

TEST_F(NormalizerTest, TextKeepsWordBoundaries) {
  EXPECT_EQ(normalizer_->Text("  12, Stanley  Street. "), "12 stanley street");
}

TEST_F(NormalizerTest, EmailPhonePostcodeDate) {
  EXPECT_EQ(normalizer_->Email(" Ada@Example.COM "), "ada@example.com");
  EXPECT_EQ(normalizer_->Email("not an email"), "");
  EXPECT_EQ(normalizer_->Phone("+82 10-1234-5678"), normalizer_->Phone("010-1234-5678"));
  EXPECT_EQ(normalizer_->Phone("123"), "");
  EXPECT_EQ(normalizer_->Postcode("sw1a 1aa"), "SW1A1AA");
  EXPECT_EQ(normalizer_->Date("19151111"), "1915-11-11");
  EXPECT_EQ(normalizer_->Date("02/03/1988"), "1988-03-02");
  EXPECT_EQ(normalizer_->Date("1988-02-30"), "") << "no such day";
}

}  // namespace
}  // namespace tessera::matching
