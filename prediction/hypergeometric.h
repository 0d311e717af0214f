#pragma once

// The Gauss hypergeometric function 2F1(a, b; c; z) for real arguments, which BG/NBD's conditional
// expectation needs (prediction/bg_nbd.h). Boost 1.74 has only the generic pFq series, which
// converges ever more slowly as z nears 1 (t/(α+T+t) does for long horizons or young customers) and
// whose terms can overflow for customers with many purchases; this one uses the classical
// transformations so that every region is evaluated by series that converge fast:
//
//   z < 0                  Pfaff: (1−z)^−a 2F1(a, c−b; c; z/(z−1)) or the same with a and b swapped,
//                          moving z into (0, 1).
//   0 ≤ z ≤ 0.9            the power series, or Euler's (1−z)^(c−a−b) 2F1(c−a, c−b; c; z), whose
//                          terms decay like n^(c−a−b−1) where the plain ones grow like n^(a+b−c−1).
//   0.9 < z < 1            the connection formula in 1−z (DLMF 15.8.4), both series in 1−z < 0.1;
//                          when c−a−b is an integer, its limit form with digammas (DLMF 15.8.10).
//   z = 1                  Gauss's sum Γ(c)Γ(c−a−b)/(Γ(c−a)Γ(c−b)), which needs c−a−b > 0.
//   a or b ∈ {0, −1, ...}  a polynomial, summed directly for any z.
//
// Each route measures its own loss to cancellation (Σ|terms| / |Σ terms|, combined through the
// connection formula's two terms); when the first route loses digits, the others are tried and the
// best-conditioned one kept. Measured against mpmath at 50 digits (docs/prediction.md): in BG/NBD's
// use, 2F1(a+b−1−r, a−1; a+b+x−1; z) with r, a ≤ 5, b ≤ 10, x ≤ 200 and z up to 1 − 1e-6, the worst
// relative error was 6e-13; over random a, b, c in [−5, 40] and z in [−100, 1), 5e-13 while |a|, |b|,
// |c| ≤ 10, and up to about 1e-7 with larger parameters of mixed signs (large negative z, or c−a−b
// within 1e-4 of an integer with z within 1e-4 of 1, where the connection formula's terms cancel).
// Thread-safe; allocates nothing.

#include "absl/status/statusor.h"

namespace tessera::prediction {

// InvalidArgument for non-finite arguments, z > 1 (other than for a polynomial), z = 1 with
// c−a−b ≤ 0 (the series diverges), or c a pole (0, −1, −2, ... unless a or b ends the series
// first). OutOfRange when the value overflows a double. Internal when no route keeps at least
// about 5 significant digits (large parameters of mixed signs), rather than returning noise.
absl::StatusOr<double> Hypergeometric2F1(double a, double b, double c, double z);

}  // namespace tessera::prediction
