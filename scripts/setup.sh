#!/usr/bin/env bash
# Makes this machine ready to build and test capturekit; fast when it already is.
#   - Debian packages (toolchains, stb, judges: ffmpeg, mkvtoolnix, Pillow; chromium for browser tests)
#   - a deb-src entry so scripts/fetch-deps.sh can `apt-get source` the pinned third-party code
#   - npm packages (npm ci)
# On a machine with its own emsdk (EMSDK set and emcc on PATH) the Debian emscripten is not installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

pkgs=(cmake ninja-build g++ clang libclang-rt-14-dev libgtest-dev libstb-dev zlib1g-dev libvpx-dev
      dpkg-dev ffmpeg mkvtoolnix python3-pil chromium fonts-dejavu-core)
if ! { [[ -n "${EMSDK:-}" ]] && command -v emcc >/dev/null; }; then pkgs+=(emscripten); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

need_src=0
[[ -f /etc/apt/sources.list.d/capturekit-src.sources ]] || need_src=1

if [[ ${#missing[@]} -gt 0 || $need_src -eq 1 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages (${missing[*]}) or the deb-src entry; run as root once" >&2
    exit 1
  fi
  if [[ $need_src -eq 1 ]]; then
    echo "setup: adding deb-src entries for the pinned third-party sources"
    # The same mirrors as the binary entries, as deb-src.
    {
      echo "Types: deb-src"; echo "URIs: http://deb.debian.org/debian"; echo "Suites: bookworm bookworm-updates"
      echo "Components: main"; echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"; echo
      echo "Types: deb-src"; echo "URIs: http://deb.debian.org/debian-security"; echo "Suites: bookworm-security"
      echo "Components: main"; echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
    } > /etc/apt/sources.list.d/capturekit-src.sources
  fi
  echo "setup: apt-get update"
  apt-get update -qq
  if [[ ${#missing[@]} -gt 0 ]]; then
    echo "setup: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# npm packages: reinstall only when package-lock.json changed since the last install.
# `npm install --no-save` installs the locked versions; `npm ci` cannot be used because the registry
# mirror here lacks other platforms' optional packages (e.g. @rollup/rollup-android-*), which `npm ci`
# insists on finding in the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm install (locked versions)"
  npm install --no-save --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi
