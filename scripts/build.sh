#!/usr/bin/env bash
# The one build script. Stages skip themselves when their output is up to date.
#   scripts/build.sh            everything: sources, native test build, wasm baseline + SIMD
#   scripts/build.sh native     only the native (ASan/UBSan) build used by ctest
#   scripts/build.sh wasm       only the two wasm builds (dist/: capturekit-image[-simd], capturekit-upload,
#                               capturekit-video[-simd], capturekit-audio, capturekit-h264[-simd], each .mjs + .wasm)
#   scripts/build.sh fuzz       the libFuzzer targets (clang)
#   scripts/build.sh bench      the native -O3 peers for bench/ (bench/native/*_bench.cpp)
# Pinned third-party sources: scripts/deps.lock. Outputs: dist/ (wasm modules), build/<config>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}   # Debian's emscripten finds acorn there
jobs=${CK_JOBS:-$(nproc)}
what=${1:-all}

# One build at a time in this tree (several people or test runs may call this at once).
mkdir -p build
exec 9>build/.lock
flock 9

stage() { echo "build: $*"; }

stage "sources"
scripts/fetch-deps.sh

configure() { # dir, then cmake args
  local dir=$1; shift
  if [[ ! -f "$dir/build.ninja" ]]; then "$@" -G Ninja >/dev/null; fi
}

if [[ $what == all || $what == native ]]; then
  stage "native (g++, ASan+UBSan)"
  scripts/build-openh264.sh native
  configure build/native cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Debug -DCK_SANITIZE=ON
  cmake --build build/native -j "$jobs"
fi

if [[ $what == all || $what == wasm ]]; then
  if [[ -x scripts/build-libvpx.sh ]]; then scripts/build-libvpx.sh; fi
  if [[ -x scripts/build-opus.sh ]]; then scripts/build-opus.sh; fi
  scripts/build-openh264.sh base simd
  # The core module was split into capturekit-image and capturekit-upload: a dist/ from before the split
  # must not ship (or be loaded by an old bookmark of a page) next to them.
  rm -f dist/capturekit-core.mjs dist/capturekit-core.wasm dist/capturekit-core-simd.mjs dist/capturekit-core-simd.wasm
  for variant in base simd; do
    simd=OFF; [[ $variant == simd ]] && simd=ON
    stage "wasm $variant"
    configure build/wasm-$variant emcmake cmake -S . -B build/wasm-$variant -DCK_SIMD=$simd
    cmake --build build/wasm-$variant -j "$jobs"
  done
fi

if [[ $what == bench ]]; then
  stage "native benchmark peers (g++ -O3)"
  scripts/build-openh264.sh native
  configure build/bench-native cmake -S . -B build/bench-native -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_CXX_FLAGS_RELEASE="-O3 -march=native -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O3 -march=native -DNDEBUG" -DCK_BENCH=ON
  cmake --build build/bench-native -j "$jobs"
fi

if [[ $what == fuzz ]]; then
  stage "fuzzers (clang libFuzzer)"
  scripts/build-openh264.sh native
  configure build/fuzz cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCK_FUZZ=ON -DCK_VIDEO=ON
  cmake --build build/fuzz -j "$jobs"
fi
