#!/usr/bin/env bash
# Builds libvpx (VP8 + VP9 encoders only) for wasm with Emscripten, twice: baseline and -msimd128.
#   scripts/build-libvpx.sh          both variants (skips a variant whose output exists)
#   scripts/build-libvpx.sh simd     only one variant (base | simd)
# Source: .cache/src/libvpx-<version> from scripts/fetch-deps.sh (never edited; built out of tree).
# Output: .cache/build/libvpx-<version>-wasm-<variant>/{libvpx.a,include/vpx/*.h}. The directory name
# carries the Debian version, so bumping scripts/deps.lock builds afresh; delete it to force a rebuild.
#
# Configure choices (measured on this project's machine, see wasm/video/video.cmake):
#   --target=generic-gnu --disable-runtime-cpu-detect  plain C, no x86 asm, no cpuid
#   --disable-multithread                              wasm without SharedArrayBuffer has no threads
#   --enable-realtime-only                             we only use the realtime deadline: same output, smaller
#   --enable-small                                     -O2 instead of -O3: identical output, the module 34 KB
#                                                      smaller gzipped (407 -> 373 KB), ~2% slower (CPU time)
#   --disable-temporal-denoising --disable-spatial-resampling   unused here (noise_sensitivity 0, no
#                                                      resize): 7 KB gzipped less
#   decoders, examples, tools, docs, unit tests off    only the encoders are linked into the module
#
# The SIMD variant routes libvpx's hottest DSP functions to our wasm SIMD128 versions: after
# configure it generates libvpx's RTCD headers (vp8_rtcd.h, vp9_rtcd.h, vpx_dsp_rtcd.h) and appends
# `#include "vpx_simd_rtcd.h"` (wasm/video/vpx_simd/) to them, which re-points e.g. vpx_sad16x16 from
# vpx_sad16x16_c to vpx_sad16x16_wasm. The *_wasm functions themselves are compiled by CMake
# (ck_vpx_simd); the routing header's hash is part of the stamp, so changing the list rebuilds.
# The generated config headers are kept in <output>/config for those files and the check program.
# libvpx's own C is compiled without -msimd128 in both variants: auto-vectorising the rest of it made
# the module 12 KB bigger gzipped (398 -> 386 KB) for no speed we could measure through the noise.
# The configure line is stamped into the output (config.txt); a different line rebuilds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
version=$(awk '$1 == "libvpx" { print $2 }' "$root/scripts/deps.lock")
version=${version#*:}
src="$root/.cache/src/libvpx-$version"
jobs=${CK_JOBS:-$(nproc)}
variants=("${@:-base simd}")
variants=(${variants[*]})

if [[ ! -f "$src/configure" ]]; then
  echo "build-libvpx: $src missing: run scripts/fetch-deps.sh libvpx" >&2
  exit 1
fi

options=(--target=generic-gnu
  --disable-runtime-cpu-detect --disable-multithread --enable-realtime-only --enable-small
  --enable-vp8-encoder --enable-vp9-encoder --disable-vp8-decoder --disable-vp9-decoder
  --disable-temporal-denoising --disable-spatial-resampling
  --disable-examples --disable-tools --disable-docs --disable-unit-tests
  --disable-install-bins --disable-install-docs --disable-webm-io --disable-libyuv
  --enable-static --disable-shared)

# One libvpx build at a time (scripts/build.sh calls this, and so may a person at the same moment).
mkdir -p "$root/.cache/build"
exec 8>"$root/.cache/build/.libvpx.lock"
flock 8

for variant in "${variants[@]}"; do
  case $variant in
    base) cflags="" ;;
    simd) cflags="-I$root/wasm/video/vpx_simd" ;;
    *) echo "build-libvpx: unknown variant $variant (base | simd)" >&2; exit 1 ;;
  esac
  out="$root/.cache/build/libvpx-$version-wasm-$variant"
  config="CFLAGS=$cflags ${options[*]}"
  if [[ $variant == simd ]]; then
    config+=" routing=$(sha256sum "$root/wasm/video/vpx_simd/vpx_simd_rtcd.h" | cut -c1-16)"
  fi
  if [[ -f "$out/libvpx.a" && -f "$out/include/vpx/vp8cx.h" && "$(cat "$out/config.txt" 2>/dev/null)" == "$config" ]]; then
    continue
  fi
  echo "build-libvpx: libvpx $version wasm $variant"
  obj="$root/.cache/build/.libvpx-$version-wasm-$variant.obj"
  rm -rf "$obj" "$out"
  mkdir -p "$obj"
  (
    cd "$obj"
    CFLAGS="$cflags" CXXFLAGS="$cflags" STRIP=llvm-strip-14 emconfigure "$src/configure" \
      --prefix="$out" "${options[@]}" >configure.log 2>&1 ||
      { tail -30 configure.log >&2; exit 1; }
    if [[ $variant == simd ]]; then
      emmake make vp8_rtcd.h vp9_rtcd.h vpx_dsp_rtcd.h >rtcd.log 2>&1 || { tail -20 rtcd.log >&2; exit 1; }
      for h in vp8_rtcd.h vp9_rtcd.h vpx_dsp_rtcd.h; do
        printf '\n/* capturekit: wasm SIMD128 routing (scripts/build-libvpx.sh) */\n#include "vpx_simd_rtcd.h"\n' >>"$h"
      done
    fi
    emmake make -j "$jobs" >make.log 2>&1 || { tail -40 make.log >&2; exit 1; }
    emmake make install >install.log 2>&1 || { tail -20 install.log >&2; exit 1; }
  )
  cp "$out/lib/libvpx.a" "$out/libvpx.a"
  mkdir -p "$out/config"
  cp "$obj"/vpx_config.h "$obj"/*_rtcd.h "$out/config/"
  echo "$config" >"$out/config.txt"
  rm -rf "$obj"
done
