#!/usr/bin/env bash
# Makes this machine ready to build and test capturekit; fast when it already is.
#   - Debian packages (toolchains, stb, judges: ffmpeg, mkvtoolnix, Pillow; chromium for browser tests)
#   - deb-src entries (derived from the machine's own binary entries) so scripts/fetch-deps.sh can
#     `apt-get source` the pinned third-party code
#   - npm packages (the locked versions)
# On a machine with its own emsdk (EMSDK set and emcc on PATH) the Debian emscripten is not installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

pkgs=(cmake ninja-build g++ clang libclang-rt-14-dev libgtest-dev libstb-dev zlib1g-dev libvpx-dev libopus-dev
      dpkg-dev ffmpeg mkvtoolnix python3-pil chromium fonts-dejavu-core
      postgresql haproxy)  # the reference server's --database and cluster tests (tests/helpers/postgres.mjs, tests/node/server/haproxy.mjs)
if ! { [[ -n "${EMSDK:-}" ]] && command -v emcc >/dev/null; }; then pkgs+=(emscripten); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# deb-src entries: the same mirrors, suites and components as the machine's own binary entries for its
# Debian release (whatever mirror the machine is configured with), so `apt-get source` works.
codename=$( . /etc/os-release && echo "${VERSION_CODENAME:-}" )
src_list=/etc/apt/sources.list.d/capturekit-src.sources
derive_src_entries() { # prints deb822 deb-src stanzas for every "deb" entry of this release
  {
    # One-line entries (sources.list, *.list) become "uri<TAB>suite<TAB>components<TAB>signed-by".
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed 's/#.*//' |
      awk '$1 == "deb" { o = ""; i = 2
             if ($2 ~ /^\[/) { while (i <= NF) { w = $i; gsub(/[][]/, "", w); if (w ~ /^signed-by=/) { sub(/^signed-by=/, "", w); o = w }
                                                 if ($i ~ /\]$/) { i++; break } i++ } }
             uri = $i; suite = $(i + 1); comps = ""; for (j = i + 2; j <= NF; j++) comps = comps (comps ? " " : "") $j
             if (uri != "" && suite != "") print uri "\t" suite "\t" comps "\t" o }'
    # deb822 entries (*.sources, our own output excepted): one line per URI and suite.
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f $f && $f != "$src_list" ]] || continue
      awk 'function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no") { n = split(uris, u, " "); m = split(suites, s, " ")
                               for (a = 1; a <= n; a++) for (b = 1; b <= m; b++) print u[a] "\t" s[b] "\t" comps "\t" signed }
                             types = uris = suites = comps = signed = enabled = "" }
           /^[ \t]*#/ { next }
           /^[ \t]*$/ { flush(); next }
           /^[A-Za-z-]+:/ { key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                            if (key == "types") types = val; else if (key == "uris") uris = val; else if (key == "suites") suites = val
                            else if (key == "components") comps = val; else if (key == "enabled") enabled = tolower(val)
                            else if (key == "signed-by" && val ~ /^\//) signed = val }
           END { flush() }' "$f"
    done
  } | awk -F '\t' -v rel="$codename" 'rel != "" && ($2 == rel || index($2, rel "-") == 1) && !seen[$1 "\t" $2]++ {
        printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", $1, $2, ($3 == "" ? "main" : $3)
        if ($4 != "") printf "Signed-By: %s\n", $4
        printf "\n" }'
}
src_entries=$(derive_src_entries)
if [[ -z "$src_entries" ]]; then
  echo "setup: no Debian binary entry for release '${codename:-unknown}' in /etc/apt/sources.list*: cannot add deb-src entries" >&2
  exit 1
fi
need_src=0
[[ -f $src_list && "$(cat "$src_list")" == "# Written by capturekit's scripts/setup.sh from this machine's binary entries."$'\n'"$src_entries" ]] || need_src=1

if [[ ${#missing[@]} -gt 0 || $need_src -eq 1 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages (${missing[*]}) or the deb-src entry; run as root once" >&2
    exit 1
  fi
  if [[ $need_src -eq 1 ]]; then
    echo "setup: adding deb-src entries for the pinned third-party sources (the mirrors of this machine's binary entries)"
    printf "# Written by capturekit's scripts/setup.sh from this machine's binary entries.\n%s\n" "$src_entries" > "$src_list"
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
