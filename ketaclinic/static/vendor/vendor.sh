#!/bin/sh
# Re-fetch the pinned front-end packages from the npm registry and copy their
# distributable files into this directory (ketaclinic/static/vendor/).
#
#   sh ketaclinic/static/vendor/vendor.sh
#
# Needs: node + npm (registry reachable), tar, sed, grep, mktemp.
# Each tarball is fetched with `npm pack` into a temporary directory, its
# sha512 is checked against the integrity pinned below, then the files are
# copied.  `//# sourceMappingURL=` comments are stripped from the copied
# minified JS/CSS because the .map files are not vendored.
# To update: change a version *and* its integrity below (the integrity comes
# from `npm view <pkg>@<version> dist.integrity`), re-run, update VENDOR.md.
set -eu

DEST=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ketaclinic-vendor.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

# fetch NAME VERSION INTEGRITY  -> unpacks to $TMP/<NAME with / -> ->/package
fetch() {
    name=$1 version=$2 want=$3
    tgz=$(printf '%s' "$name" | sed 's|^@||; s|/|-|')-$version.tgz
    dir=$TMP/$(printf '%s' "$name" | sed 's|^@||; s|/|-|')
    echo "npm pack $name@$version" >&2
    (cd "$TMP" && npm pack "$name@$version" --silent >/dev/null)
    got=sha512-$(node -e '
        const c = require("crypto"), fs = require("fs");
        process.stdout.write(c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"));
    ' "$TMP/$tgz")
    if [ "$got" != "$want" ]; then
        echo "INTEGRITY MISMATCH for $name@$version" >&2
        echo "  expected $want" >&2
        echo "  got      $got" >&2
        exit 1
    fi
    mkdir -p "$dir"
    tar -xzf "$TMP/$tgz" -C "$dir"
    PKG=$dir/package
}

# put SRC DESTREL  -> copy one file, stripping source-map comments from .js/.css
put() {
    mkdir -p "$(dirname "$DEST/$2")"
    case $2 in
        *.js|*.css)
            sed -e '/^[[:space:]]*\/\/[#@] sourceMappingURL=/d' \
                -e 's|/\*[#@] sourceMappingURL=[^*]*\*/||g' "$1" > "$DEST/$2" ;;
        *)
            cp "$1" "$DEST/$2" ;;
    esac
}

fetch htmx.org 2.0.11 'sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=='
put "$PKG/dist/htmx.min.js" htmx/htmx.min.js
put "$PKG/LICENSE"          htmx/LICENSE

fetch @picocss/pico 2.1.1 'sha512-kIDugA7Ps4U+2BHxiNHmvgPIQDWPDU4IeU6TNRdvXQM1uZX+FibqDQT2xUOnnO2yq/LUHcwnGlu1hvf4KfXnMg=='
put "$PKG/css/pico.min.css" pico/pico.min.css
put "$PKG/LICENSE.md"       pico/LICENSE.md

fetch chart.js 4.6.1 'sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g=='
put "$PKG/dist/chart.umd.min.js" chartjs/chart.umd.min.js
put "$PKG/LICENSE.md"            chartjs/LICENSE.md

fetch chartjs-plugin-annotation 3.1.0 'sha512-EkAed6/ycXD/7n0ShrlT1T2Hm3acnbFhgkIEJLa0X+M6S16x0zwj1Fv4suv/2bwayCT3jGPdAtI9uLcAMToaQQ=='
put "$PKG/dist/chartjs-plugin-annotation.min.js" chartjs-plugin-annotation/chartjs-plugin-annotation.min.js
put "$PKG/LICENSE.md"                            chartjs-plugin-annotation/LICENSE.md

fetch axe-core 4.14.1 'sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=='
put "$PKG/axe.min.js"            axe-core/axe.min.js
put "$PKG/LICENSE"               axe-core/LICENSE
put "$PKG/LICENSE-3RD-PARTY.txt" axe-core/LICENSE-3RD-PARTY.txt

# Nothing vendored may point at a source map we do not ship.
if find "$DEST" -type f \( -name '*.js' -o -name '*.css' \) \
        -exec grep -l 'sourceMappingURL' {} + | grep .; then
    echo "sourceMappingURL comment left in the files above" >&2
    exit 1
fi
echo "done; review with: git diff --stat -- \"$DEST\"" >&2
