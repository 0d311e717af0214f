#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ for a bounded time: scripts/fuzz.sh [SECONDS_PER_TARGET]
# (default 60; FUZZ_TARGETS="a_fuzzer b_fuzzer" runs only those). Builds them with clang in
# build-fuzz/ (ASan + UBSan + libFuzzer) and starts each from its seeds in fuzz/corpus/<target>/ plus
# what earlier runs found in build-fuzz/corpus/<target>/ (new inputs go there, so the committed
# seeds stay small). Exits non-zero when any target crashed, leaked, hit undefined behaviour, timed
# out or ran out of memory, printing the file that holds the input.
# Reproduce one with: build-fuzz/fuzz/<target> <file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
  exit 2
fi
jobs="${FUZZ_BUILD_JOBS:-2}"

# The build's own dependencies plus clang and, for Debian 12's clang 14, libclang-rt-14-dev, which
# holds libFuzzer (libclang_rt.fuzzer*.a) and the sanitizer runtimes; only what is missing.
scripts/install-deps.sh clang libclang-rt-14-dev

# target:max_len. The Segment targets may exceed the 32 KB event limit; the others stay small so
# that mutations stay fast.
targets=(
  segment_event_fuzzer:40000
  segment_batch_fuzzer:40000
  segment_stream_fuzzer:40000
  shopify_fuzzer:16384
  sendgrid_fuzzer:16384
  mailgun_fuzzer:16384
  meta_fuzzer:16384
  pos_csv_fuzzer:4096
  contact_log_fuzzer:4096
  content_decoding_fuzzer:8192
  allowed_origin_fuzzer:512
  csv_chunker_fuzzer:4096
  zendesk_fuzzer:16384
  freshdesk_fuzzer:16384
  twilio_voice_fuzzer:16384
)
# FUZZ_TARGETS="shopify_fuzzer pos_csv_fuzzer" runs only those.
if [ -n "${FUZZ_TARGETS:-}" ]; then
  selected=()
  for entry in "${targets[@]}"; do
    if [[ " $FUZZ_TARGETS " == *" ${entry%%:*} "* ]]; then selected+=("$entry"); fi
  done
  if [ ${#selected[@]} -eq 0 ]; then
    echo "fuzz: FUZZ_TARGETS names no known target: ${targets[*]%%:*}" >&2
    exit 2
  fi
  targets=("${selected[@]}")
fi
names=("${targets[@]%%:*}")

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# Warnings stay visible but not fatal: -Werror is for the normal (g++) build.
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DTESSERA_FUZZ=ON -DTESSERA_WERROR=OFF -DBUILD_TESTING=OFF "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j"$jobs" --target "${names[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for entry in "${targets[@]}"; do
  name="${entry%%:*}"
  max_len="${entry##*:}"
  work="build-fuzz/corpus/$name"
  artifacts="build-fuzz/artifacts/$name"
  mkdir -p "$work" "$artifacts"
  log="build-fuzz/artifacts/$name.log"
  echo "fuzz: $name for ${seconds}s (log: $log)"
  touch "$artifacts/.started"
  # New inputs go to $work; the seeds are only read.
  if "build-fuzz/fuzz/$name" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" "fuzz/corpus/$name" >"$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov: ' "$log" | tail -3 | sed 's/^/  /' || true
  else
    failed+=("$name")
    echo "fuzz: $name FAILED; the input is in:"
    find "$artifacts" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
      -newer "$artifacts/.started" -printf '  %p\n' 2>/dev/null || true
    grep -m1 -E 'ERROR: |runtime error|fuzz check failed|==ERROR' "$log" | sed 's/^/  /' || true
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]} (reproduce: build-fuzz/fuzz/<target> <input>)"
  exit 1
fi
echo "fuzz: no findings in ${#names[@]} targets, ${seconds}s each"
