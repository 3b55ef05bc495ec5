#!/usr/bin/env bash
# Builds OpenH264's encoder (no decoder, no console tools) as a static library, from the pinned Debian
# source, without its Makefile (which builds in the source tree) and without assembly:
#   scripts/build-openh264.sh              base and simd (wasm, Emscripten) and native (g++)
#   scripts/build-openh264.sh simd         only the named variants (base | simd | native)
# Source: .cache/src/openh264-<version> from scripts/fetch-deps.sh (never edited; objects go elsewhere).
# Output: .cache/build/openh264-<version>-<variant>/{libopenh264enc.a,include/wels/codec_*.h}; the
# directory name carries the Debian version, so bumping scripts/deps.lock builds afresh.
#
# The file lists are OpenH264's own (codec/{common,processing,encoder}/targets.mk, the *_CPP_SRCS
# blocks), so an upstream change of sources follows by itself. Compile choices:
#   -O3 -DNDEBUG -fno-strict-aliasing   as upstream's release build
#   no X86_ASM / HAVE_NEON              plain C++ everywhere, so native and wasm run the same code
#                                       and the native gtests check what the wasm module runs
#   simd: -msimd128                     clang's auto-vectorisation of that C++ (OpenH264 has no wasm
#                                       SIMD kernels of its own)
#   native: g++ -O2                     for the ASan gtests in build/native and the benchmark peer
# The flags are stamped into the output (config.txt); different flags rebuild.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
version=$(awk '$1 == "openh264" { print $2 }' "$root/scripts/deps.lock")
version=${version#*:}
src="$root/.cache/src/openh264-$version"
jobs=${CK_JOBS:-$(nproc)}
variants=("${@:-base simd native}")
variants=(${variants[*]})

if [[ ! -f "$src/codec/encoder/targets.mk" ]]; then
  echo "build-openh264: $src missing: run scripts/fetch-deps.sh openh264" >&2
  exit 1
fi

# The sources: every *_CPP_SRCS line of the three targets.mk files, $(X_SRCDIR) replaced by its dir.
sources() {
  local mk
  for mk in codec/common/targets.mk codec/processing/targets.mk codec/encoder/targets.mk; do
    awk -v dir="$(dirname "$mk")" '
      /_CPP_SRCS=/ { on = 1; next }
      on && /^[ \t]*$/ { on = 0 }
      on { line = $1; sub(/\\$/, "", line); sub(/^\$\([A-Z_]+SRCDIR\)/, dir, line); print line }
    ' "$src/$mk"
  done
}

includes=(-I"$src/codec/api/wels" -I"$src/codec/common/inc"
  -I"$src/codec/encoder/core/inc" -I"$src/codec/encoder/plus/inc"
  -I"$src/codec/processing/interface" -I"$src/codec/processing/src/common"
  -I"$src/codec/processing/src/adaptivequantization" -I"$src/codec/processing/src/downsample"
  -I"$src/codec/processing/src/scrolldetection" -I"$src/codec/processing/src/vaacalc")

mkdir -p "$root/.cache/build"
exec 7>"$root/.cache/build/.openh264.lock"
flock 7

for variant in "${variants[@]}"; do
  case $variant in
    base) cxx=em++; ar=emar; flags="-O3 -DNDEBUG -fno-strict-aliasing" ;;
    simd) cxx=em++; ar=emar; flags="-O3 -DNDEBUG -fno-strict-aliasing -msimd128" ;;
    native) cxx=g++; ar=ar; flags="-O2 -DNDEBUG -fno-strict-aliasing -fPIC" ;;
    *) echo "build-openh264: unknown variant $variant (base | simd | native)" >&2; exit 1 ;;
  esac
  out="$root/.cache/build/openh264-$version-$variant"
  config="$cxx $flags $(sources | sha256sum | cut -c1-16)"
  if [[ -f "$out/libopenh264enc.a" && "$(cat "$out/config.txt" 2>/dev/null)" == "$config" ]]; then
    continue
  fi
  echo "build-openh264: openh264 $version $variant"
  obj="$root/.cache/build/.openh264-$version-$variant.obj"
  rm -rf "$obj" "$out"
  mkdir -p "$obj"
  export cxx flags obj src
  export includes_line="${includes[*]}"
  sources | xargs -P "$jobs" -I{} sh -c \
    'o="$obj/$(echo {} | tr / _).o"; $cxx $flags $includes_line -w -c "$src/{}" -o "$o" 2>>"$obj/compile.log" ||
       { echo "build-openh264: {} failed" >&2; tail -20 "$obj/compile.log" >&2; exit 255; }'
  $ar rcs "$obj/libopenh264enc.a" "$obj"/*.o
  mkdir -p "$out/include/wels"
  cp "$src"/codec/api/wels/codec_*.h "$out/include/wels/"
  mv "$obj/libopenh264enc.a" "$out/"
  echo "$config" >"$out/config.txt"
  rm -rf "$obj"
done
