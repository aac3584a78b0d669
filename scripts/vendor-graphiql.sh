#!/usr/bin/env bash
# Vendors GraphiQL's browser build, with React's and ReactDOM's production builds, into
# src/server/assets/vendor/, from which the gateway's binary embeds them (no Node, no CDN).
#
# Each package is fetched from the npm registry at the pinned version, its tarball checked
# against the pinned sha256, and only the files the page loads are kept, with the package's
# licence (all three are MIT) beside them.
#
# To update: change a version below, run the script once with the new version to read the
# tarball's sha256 from the mismatch message, check it against the registry's published
# integrity (`npm view <pkg>@<version> dist`), write it below, rerun, and commit
# src/server/assets/vendor/.
set -euo pipefail
cd "$(dirname "$0")/.."

# package  version  sha256 of the registry tarball  files to keep (path inside the package)
PACKAGES=(
  "graphiql 4.1.2 6aa9cb6d82e656d38b72991264f41545889881e8dc23059199be3b94fff2ad05 graphiql.min.js graphiql.min.css"
  "react 18.3.1 8d9bed01a672e7eaf387942d781ad47c6a43089a30a0306060f9fd5ac7870347 umd/react.production.min.js"
  "react-dom 18.3.1 031d4427a99f2f3f6cac18bbbf308594a67e4f47d10f4896fdec446505b040e0 umd/react-dom.production.min.js"
)
REGISTRY=${NPM_REGISTRY:-https://registry.npmjs.org}
DEST=src/server/assets/vendor

for tool in curl sha256sum tar; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool is needed" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Everything is fetched and checked into a staging directory first: a failed download or a
# checksum mismatch leaves the committed files as they are.
out="$work/out"
mkdir -p "$out"
echo "# Written by scripts/vendor-graphiql.sh: package, version, sha256 of the npm tarball." \
  >"$out/VERSIONS"

for entry in "${PACKAGES[@]}"; do
  read -r name version sha files <<<"$entry"
  tarball="$work/$name-$version.tgz"
  url="$REGISTRY/$name/-/$name-$version.tgz"
  echo "fetching $url"
  curl --fail --silent --show-error --location --output "$tarball" "$url"
  actual=$(sha256sum "$tarball" | cut -d' ' -f1)
  if [ "$actual" != "$sha" ]; then
    echo "$name-$version.tgz: sha256 is $actual, expected $sha" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  # shellcheck disable=SC2086 # the file list is meant to split into words
  tar -xzf "$tarball" -C "$work/$name" package/LICENSE $(printf 'package/%s ' $files)
  for file in $files; do
    cp "$work/$name/package/$file" "$out/$(basename "$file")"
  done
  cp "$work/$name/package/LICENSE" "$out/LICENSE.$name"
  echo "$name $version $sha" >>"$out/VERSIONS"
done

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
cp -R "$out" "$DEST"

echo "vendored into $DEST:"
ls -l "$DEST"
