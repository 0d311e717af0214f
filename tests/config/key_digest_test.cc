#include "config/key_digest.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::config {
namespace {

TEST(KeyDigestTest, IsTheSha256OfTheKey) {
  // FIPS 180-2's first example, as `printf %s abc | sha256sum` prints it.
  EXPECT_EQ(HexOfDigest(DigestOfKey("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(KeyDigestTest, AConfiguredDigestStandsForItsKey) {
  absl::StatusOr<KeyDigest> hashed =
      DigestOfConfiguredKey("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_TRUE(hashed.ok()) << hashed.status();
  EXPECT_EQ(*hashed, DigestOfKey("abc"));
  absl::StatusOr<KeyDigest> plain = DigestOfConfiguredKey("abc");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, DigestOfKey("abc")) << "a key without the prefix is the secret itself";
}

TEST(KeyDigestTest, MalformedDigestsAreRefused) {
  const std::string valid_hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  for (const std::string& bad : {std::string("sha256:"), "sha256:" + valid_hex.substr(1),
                                 "sha256:" + valid_hex + "0", "sha256:BA" + valid_hex.substr(2),
                                 "sha256:g" + valid_hex.substr(1), "sha256: " + valid_hex.substr(1)}) {
    EXPECT_TRUE(IsHashedKey(bad)) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(DigestOfConfiguredKey(bad).status())) << bad;
  }
  EXPECT_FALSE(IsHashedKey("SHA256:" + valid_hex)) << "the prefix is lowercase; anything else is a plain key";
}

}  // namespace
}  // namespace tessera::config
