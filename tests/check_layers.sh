#!/usr/bin/env bash
# check_layers — the source tree's layers stack: a file includes only headers of
# its own layer and of layers below it, and no chain of #include lines loops.
#
# Layers, lowest first (docs/internals.md): core data model measure compress run cmd.
# A public header include/cbound/NAME.h belongs to the layer of src/LAYER/NAME.c; a
# header without a source file says its layer in its opening comment ("layer: X").
# A private header ("NAME.h" without "cbound/") must sit in the including file's folder.
# Usage: tests/check_layers.sh [ROOT]   (ROOT = the repository, default: this script's parent)
set -u
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root" || exit 2
order="core data model measure compress run cmd"
declare -A rank # layer -> its place in $order (no subshell per lookup: the check stays fast)
i=0; for l in $order; do rank[$l]=$i; i=$((i + 1)); done

pass=0 fail=0
ok() { pass=$((pass + 1)); }
no() { fail=$((fail + 1)); echo "FAIL: $*"; }

declare -A layer_of # "cbound/x.h" or "src/l/x.h" -> layer
for h in include/cbound/*.h; do
    name=${h##*/}; name=${name%.h}
    src=$(compgen -G "src/*/$name.c" | head -1)
    if [ -n "$src" ]; then
        l=${src#src/}; l=${l%%/*}
    else
        l=$(sed -n '1,20s/.*layer: \([a-z]*\).*/\1/p' "$h" | head -1)
    fi
    if [ -z "$l" ] || [ -z "${rank[$l]:-}" ]; then
        no "$h: no layer (no src/*/$name.c and no 'layer: X' in its opening comment)"
        continue
    fi
    layer_of["cbound/$name.h"]=$l
done
for d in src/*/; do
    l=${d#src/}; l=${l%/}
    [ -n "${rank[$l]:-}" ] || no "src/$l: not a known layer ($order)"
    for h in "$d"*.h; do [ -e "$h" ] && layer_of["$h"]=$l; done
done

# Edges file -> included file (repository paths), and the layer rule.
edge_list=""
for f in src/*/*.c src/*/*.h include/cbound/*.h; do
    case "$f" in
        include/*) fl=${layer_of["cbound/${f##*/}"]:-} ;;
        *) fl=${f#src/}; fl=${fl%%/*} ;;
    esac
    [ -n "$fl" ] || continue
    while IFS= read -r inc; do
        case "$inc" in
            cbound/*) target="include/$inc"; tl=${layer_of["$inc"]:-} ;;
            */*) no "$f: includes \"$inc\" (private headers live beside their users)"; continue ;;
            *) target="${f%/*}/$inc"; tl=${layer_of["$target"]:-}
               [ -e "$target" ] || { no "$f: includes \"$inc\", not in ${f%/*}/"; continue; } ;;
        esac
        [ -e "$target" ] || { no "$f: includes \"$inc\", which does not exist"; continue; }
        edge_list+="$f $target"$'\n'
        if [ "${rank[$tl]:--1}" -gt "${rank[$fl]:--1}" ]; then
            no "$f (layer $fl) includes $inc (layer $tl): an upward include"
        else
            ok
        fi
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done

# Cycles: tsort reports a loop on stderr.
if loops=$(printf '%s' "$edge_list" | tsort 2>&1 >/dev/null) && [ -z "$loops" ]; then
    ok
else
    no "include cycle: $(echo "$loops" | tr '\n' ' ')"
fi
echo "check_layers: $pass passed, $fail failed ($(printf '%s' "$edge_list" | grep -c .) includes checked)"
[ "$fail" -eq 0 ]
