#include "prediction/hypergeometric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace tessera::prediction {
namespace {

double Evaluate(double a, double b, double c, double z) {
  absl::StatusOr<double> value = Hypergeometric2F1(a, b, c, z);
  EXPECT_TRUE(value.ok()) << "2F1(" << a << ", " << b << "; " << c << "; " << z << "): " << value.status();
  return value.ok() ? *value : NAN;
}

void ExpectRelativelyNear(double actual, double expected, double tolerance, const std::string& what) {
  EXPECT_LE(std::abs(actual - expected), tolerance * std::abs(expected))
      << what << ": got " << actual << ", expected " << expected << " (relative error "
      << std::abs(actual - expected) / std::abs(expected) << ")";
}

// Arguments that reach every region of the implementation, including z within 1e-6 of 1.
constexpr double kGrid[] = {-1e6, -50,  -3,  -0.9, -0.2, 0,     1e-8,    0.1,
                            0.5,  0.89, 0.9, 0.91, 0.99, 0.999, 0.99999, 0.9999999};

TEST(Hypergeometric2F1Test, OneOneTwoIsTheLogarithm) {
  // 2F1(1, 1; 2; z) = −ln(1−z)/z: c − a − b = 0, the integer case of the connection formula near 1.
  for (double z : kGrid) {
    const double expected = z == 0 ? 1.0 : -std::log1p(-z) / z;
    ExpectRelativelyNear(Evaluate(1, 1, 2, z), expected, 1e-13, absl::StrCat("2F1(1,1;2;", z, ")"));
  }
}

TEST(Hypergeometric2F1Test, EqualBAndCIsAPower) {
  // 2F1(a, b; b; z) = (1−z)^−a, with c − a − b = −a non-integer, a negative integer, and positive.
  for (double a : {0.37, 2.0, -2.5, 5.3}) {
    for (double z : kGrid) {
      ExpectRelativelyNear(Evaluate(a, 1.7, 1.7, z), std::pow(1 - z, -a), 1e-12,
                           absl::StrCat("2F1(", a, ",1.7;1.7;", z, ")"));
    }
  }
}

TEST(Hypergeometric2F1Test, InverseTrigonometricClosedForms) {
  for (double y : {0.01, 0.3, 0.7, 0.95, 0.999, 0.999999}) {
    // 2F1(1/2, 1/2; 3/2; y²) = arcsin(y)/y and 2F1(1/2, 1; 3/2; y²) = artanh(y)/y near z = 1.
    ExpectRelativelyNear(Evaluate(0.5, 0.5, 1.5, y * y), std::asin(y) / y, 1e-12, absl::StrCat("arcsin ", y));
    ExpectRelativelyNear(Evaluate(0.5, 1, 1.5, y * y), std::atanh(y) / y, 1e-12, absl::StrCat("artanh ", y));
  }
  for (double y : {0.1, 1.0, 10.0, 1000.0}) {
    // 2F1(1/2, 1; 3/2; −y²) = arctan(y)/y for negative z (Pfaff's transformation).
    ExpectRelativelyNear(Evaluate(0.5, 1, 1.5, -y * y), std::atan(y) / y, 1e-12, absl::StrCat("arctan ", y));
  }
}

TEST(Hypergeometric2F1Test, MatchesMpmathReferenceValues) {
  // Computed with mpmath 1.3 at 40 digits from the same doubles: mp.hyp2f1(a, b, c, z).
  struct Case {
    double a, b, c, z, expected, tolerance;
  };
  const Case cases[] = {
      {0.5, 1.5, 2.5, 0.3, 1.1080625510569319884, 1e-14},
      {1.2, 0.7, 3.1, -0.5, 0.88876381279012753538, 1e-14},
      {1.2, 0.7, 3.1, -50.0, 0.17167752620835084612, 1e-13},
      {0.5, 1.5, 3.5, -1e6, 0.0018749752465946335534, 1e-12},
      // BG/NBD's own shape: (r+x, b+x; a+b+x−1) at CDNOW's parameters, x = 2, z = 0.95.
      {2.243, 4.426, 4.219, 0.95, 1344.3402781759898863, 1e-12},
      {1.5, 2.5, 3.7, 0.999999, 650.38793154458242118, 1e-12},
      // c − a − b = 0 in decimals but about 1e-16 in doubles: the near-integer paths.
      {0.3, 0.8, 1.1, 0.99, 2.1664014376794838264, 1e-12},
      {0.3, 0.8, 3.1, 0.97, 1.1161902984817416539, 1e-12},  // c − a − b = 2
      {1.3, 2.8, 2.1, 0.97, 785.43926564444769779, 1e-12},  // c − a − b = −2
      {0.3, 0.8, 1.100001, 0.95, 1.7358127556305098733, 1e-12},
      // The documented sliver: c − a − b within 1e-4 of an integer and z within 1e-5 of 1.
      {0.3, 0.8, 1.100001, 0.9999999, 5.3076180475237636684, 1e-8},
      {0.3, 0.8, 1.1000000001, 0.9999999, 5.3076531980036013642, 1e-8},
      {-3.0, 2.0, 5.0, 0.7, 0.41480000000000002345, 1e-14},  // A polynomial.
      {50.243, 52.426, 52.219, 0.9, 2.7981010719674781926e+50, 1e-11},
      {0.5, 0.5, 2.0, 1.0, 1.2732395447351626862, 1e-14},  // Gauss's sum at z = 1: 4/π.
      {2.5, -0.4, 10.0, 0.999, 0.88785008891638860547, 1e-12},
      {3.0, 4.0, 1.5, 0.5, 106.0143760293277609, 1e-13},
      {-0.5, 0.25, -1.5, 0.6, 0.94307507226220157223, 1e-13},
  };
  for (const Case& test : cases) {
    ExpectRelativelyNear(Evaluate(test.a, test.b, test.c, test.z), test.expected, test.tolerance,
                         absl::StrCat("2F1(", test.a, ", ", test.b, "; ", test.c, "; ", test.z, ")"));
  }
}

TEST(Hypergeometric2F1Test, RefusesWhatItDoesNotDefine) {
  EXPECT_EQ(Hypergeometric2F1(1, 1, 2, 1.5).status().code(), absl::StatusCode::kInvalidArgument) << "z > 1";
  EXPECT_EQ(Hypergeometric2F1(1, 1, 2, 1).status().code(), absl::StatusCode::kInvalidArgument)
      << "z = 1 with c - a - b = 0 diverges";
  EXPECT_EQ(Hypergeometric2F1(1, 1, -2, 0.5).status().code(), absl::StatusCode::kInvalidArgument)
      << "c a pole";
  EXPECT_EQ(Hypergeometric2F1(NAN, 1, 2, 0.5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Hypergeometric2F1(1, 1, 2, INFINITY).status().code(), absl::StatusCode::kInvalidArgument);
  // A polynomial that ends before c's pole is defined: 2F1(−1, 3; −2; z) = 1 + (−1)(3)/(−2) z = 1 + 1.5 z.
  ExpectRelativelyNear(Evaluate(-1, 3, -2, 0.5), 1.75, 1e-15, "polynomial before the pole");
}

}  // namespace
}  // namespace tessera::prediction
