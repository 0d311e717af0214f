#pragma once

// String metrics for comparing normalized values: Jaro, Jaro-Winkler, Levenshtein and
// Damerau-Levenshtein (optimal string alignment). They compare bytes, so callers pass values that
// Normalizer has already transliterated to ASCII; pure functions, thread-safe.
//
// Written here because Debian 12 packages no maintained C++ library with all four (RapidFuzz's
// C++ headers are only in bookworm-backports); tests/matching/string_metrics_test.cc checks them
// against published values.

#include <string_view>

namespace tessera::matching {

// Jaro similarity in [0, 1] (Jaro 1989): 1 for equal strings, 0 when either is empty and the
// other is not or when no character matches within the window max(|a|,|b|)/2 - 1.
double Jaro(std::string_view a, std::string_view b);

// Jaro-Winkler similarity (Winkler 1990): Jaro plus prefix_scale * l * (1 - Jaro) for the common
// prefix length l (at most 4). Applied whatever the Jaro value, as Splink and jellyfish do.
double JaroWinkler(std::string_view a, std::string_view b, double prefix_scale = 0.1);

// Edits (insertions, deletions, substitutions) to turn a into b.
int Levenshtein(std::string_view a, std::string_view b);

// Levenshtein plus transpositions of adjacent characters, each substring edited once (the
// "optimal string alignment" distance, which is what Splink's damerau_levenshtein computes in
// DuckDB).
int DamerauLevenshtein(std::string_view a, std::string_view b);

// DamerauLevenshtein(a, b) <= 1, decided in one pass (no table).
bool WithinOneEdit(std::string_view a, std::string_view b);

}  // namespace tessera::matching
