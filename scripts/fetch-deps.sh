#!/usr/bin/env bash
# Fetch pinned Debian source packages listed in scripts/deps.lock into .cache/src/<name>-<version>/.
#   scripts/fetch-deps.sh            every package in the lock file
#   scripts/fetch-deps.sh zlib ...   only the named ones
# A package whose extracted tree exists (with its .verified stamp) is skipped.
# The .dsc's SHA-256 must match the lock file; dpkg-source then checks every tarball
# against the checksums inside the .dsc and applies Debian's patches.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache/src"
mkdir -p "$cache"
want=("$@")

while read -r name version sum; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  if [[ ${#want[@]} -gt 0 && ! " ${want[*]} " == *" $name "* ]]; then continue; fi
  upstream=${version#*:}            # drop the epoch
  dir="$cache/$name-$upstream"
  if [[ -f "$dir/.verified" ]]; then continue; fi
  echo "fetch-deps: $name $version"
  dl="$cache/.dl-$name"
  rm -rf "$dl" "$dir"; mkdir -p "$dl"
  ( cd "$dl" && apt-get source --download-only "$name=$version" >/dev/null 2>&1 ) || {
    echo "fetch-deps: apt-get source $name=$version failed (is a deb-src entry configured? run scripts/setup.sh)" >&2; exit 1; }
  dsc=$(ls "$dl"/*.dsc)
  got=$(sha256sum "$dsc" | cut -d' ' -f1)
  if [[ "$got" != "$sum" ]]; then
    echo "fetch-deps: checksum mismatch for $dsc: expected $sum, got $got" >&2; exit 1
  fi
  # The archive's signing keys are not installed here; the pinned .dsc checksum stands in for them.
  dpkg-source --require-strong-checksums -x "$dsc" "$dir" 2>&1 >/dev/null | grep -v -e '^gpgv:' -e 'cannot verify inline signature' >&2 || true
  [[ -d "$dir" ]] || { echo "fetch-deps: dpkg-source could not extract $dsc" >&2; exit 1; }
  touch "$dir/.verified"
  rm -rf "$dl" "$cache"/*.orig.tar.*
done < "$root/scripts/deps.lock"
