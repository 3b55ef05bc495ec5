#!/usr/bin/env bash
# Builds libopus (the encoder is what capturekit uses) for wasm with Emscripten.
#   scripts/build-opus.sh            the baseline build the audio module links (skipped when its output exists)
#   scripts/build-opus.sh simd       the -msimd128 variant, to measure (base | simd): it encoded no faster in
#                                    Node (bench/audio.bench.js) and made the module 15 KB bigger gzipped, so
#                                    capturekit-audio ships one build (wasm/audio/audio.cmake)
# Source: .cache/src/opus-<version> from scripts/fetch-deps.sh (never edited; built out of tree).
# Output: .cache/build/opus-<version>-wasm-<variant>/{libopus.a,include/opus/*.h}. The directory name
# carries the Debian version, so bumping scripts/deps.lock builds afresh; delete it to force a rebuild.
#
# Configure choices (measured on this project's machine, see wasm/audio/audio.cmake):
#   float (the default; not --enable-fixed-point)  wasm has native f32 arithmetic, and the fixed-point
#                                                  build emulates its 32x32->64 multiplies with i64 ops:
#                                                  the float encoder is faster in Node (see the README's
#                                                  audio benchmark) at about the same size, and takes
#                                                  float PCM (Web Audio's format) without a conversion
#   --disable-asm --disable-rtcd --disable-intrinsics   plain C: no x86/ARM code, no cpuid
#   --disable-hardening --disable-stack-protector  no _FORTIFY_SOURCE / stack canaries (nothing to check
#                                                  them against in wasm)
#   --disable-extra-programs --disable-doc         the library only
# The SIMD variant compiles the same C with -msimd128 (clang auto-vectorises libopus's float loops;
# libopus 1.3.1 has no wasm SIMD code of its own).
# The configure line is stamped into the output (config.txt); a different line rebuilds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
version=$(awk '$1 == "opus" { print $2 }' "$root/scripts/deps.lock")
version=${version#*:}
src="$root/.cache/src/opus-$version"
jobs=${CK_JOBS:-$(nproc)}
variants=("${@:-base}")
variants=(${variants[*]})

if [[ ! -f "$src/configure" ]]; then
  echo "build-opus: $src missing: run scripts/fetch-deps.sh opus" >&2
  exit 1
fi

options=(--disable-shared --enable-static --disable-asm --disable-rtcd --disable-intrinsics
  --disable-hardening --disable-stack-protector --disable-extra-programs --disable-doc)

mkdir -p "$root/.cache/build"
exec 8>"$root/.cache/build/.opus.lock"
flock 8

for variant in "${variants[@]}"; do
  case $variant in
    base) cflags="-O3" ;;
    simd) cflags="-O3 -msimd128" ;;
    *) echo "build-opus: unknown variant $variant (base | simd)" >&2; exit 1 ;;
  esac
  out="$root/.cache/build/opus-$version-wasm-$variant"
  config="CFLAGS=$cflags ${options[*]}"
  if [[ -f "$out/libopus.a" && -f "$out/include/opus/opus.h" && "$(cat "$out/config.txt" 2>/dev/null)" == "$config" ]]; then
    continue
  fi
  echo "build-opus: opus $version wasm $variant"
  obj="$root/.cache/build/.opus-$version-wasm-$variant.obj"
  rm -rf "$obj" "$out"
  mkdir -p "$obj"
  (
    cd "$obj"
    CFLAGS="$cflags" emconfigure "$src/configure" --host=wasm32-unknown-none \
      --prefix="$out" "${options[@]}" >configure.log 2>&1 ||
      { tail -30 configure.log >&2; exit 1; }
    emmake make -j "$jobs" >make.log 2>&1 || { tail -40 make.log >&2; exit 1; }
    emmake make install >install.log 2>&1 || { tail -20 install.log >&2; exit 1; }
  )
  cp "$out/lib/libopus.a" "$out/libopus.a"
  echo "$config" >"$out/config.txt"
  rm -rf "$obj"
done
