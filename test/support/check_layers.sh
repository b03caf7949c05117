#!/bin/sh
# SPDX-License-Identifier: MIT
# The layers of the layers: base, then components and codec, then engine, then stores hold in lib/: a file includes only headers of its own layer or
# below (base < components = codec < engine < stores), a components file no private codec
# header (the core builds without the codec), and only codec files include yajl or libb64.
# The layer of a file or header comes from its name.
#
# usage: check_layers.sh [LIBDIR]   (default lib)
dir=${1:-lib}

# Prints "rank layer" for a source or header name (directory and extension stripped).
# A private header bp_X_int.h is of the layer of bp_X.
layer() {
  n=$1
  [ "$n" = bp_int ] || n=${n%_int}
  case $n in
    bp_int|bp_err|bp_errmsg|bp_mem|bp_buf|bp_arena|bp_version|bp_seqnum|bp_time|bp_utf8|\
    bp_common|bp_features|bp_struct|bp_record) echo "1 base" ;;
    bp_config_json*) echo "2 codec" ;;
    bp_batch*|bp_checkpoint*|bp_bisect*|bp_resolver*|bp_config*) echo "2 components" ;;
    bp_json*|bp_jsonw*|bp_b64*|bp_codec*|bp_filter*|bp_handler*) echo "2 codec" ;;
    bp_engine*) echo "3 engine" ;;
    bp_store*) echo "4 stores" ;;
    *) echo "0 unknown" ;;
  esac
}

fail=0
files=0
for f in "$dir"/*.c "$dir"/*.h; do
  [ -f "$f" ] || continue
  files=$((files + 1))
  name=$(basename "$f"); name=${name%.*}
  set -- $(layer "$name"); frank=$1; flayer=$2
  if [ "$flayer" = unknown ]; then
    echo "check_layers: $f: no layer for this name (add it to $0)"; fail=1; continue
  fi
  # every #include, as `"name"` or `<name>`
  for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*\)[>"].*/\1/p' "$f"); do
    case $inc in
      \<yajl/*|\<b64/*)
        if [ "$flayer" != codec ]; then
          echo "check_layers: $f ($flayer) includes ${inc#?}: only the codec uses yajl and libb64"
          fail=1
        fi
        continue ;;
      \<*) continue ;;
    esac
    inc=${inc#?}
    iname=$(basename "$inc"); iname=${iname%.*}
    set -- $(layer "$iname"); irank=$1; ilayer=$2
    if [ "$ilayer" = unknown ]; then
      echo "check_layers: $f includes $inc: no layer for this name (add it to $0)"; fail=1
    elif [ "$irank" -gt "$frank" ]; then
      echo "check_layers: $f ($flayer) includes $inc ($ilayer), a layer above it"; fail=1
    elif [ "$flayer" = components ] && [ "$ilayer" = codec ] && [ "$inc" = "${inc#*/}" ]; then
      echo "check_layers: $f (components) includes $inc, a private codec header"; fail=1
    fi
  done
done

# lib/aws, the add-on, is a layer above the public API: its files include the public headers
# ("batchpoint.h", "batchpoint/...") and the add-on's own (bp_aws*), never a core internal.
aws=0
for f in "$dir"/aws/*.c "$dir"/aws/*.h; do
  [ -f "$f" ] || continue
  aws=$((aws + 1))
  for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
    case $inc in
      batchpoint.h | batchpoint/*.h | bp_aws*.h) ;;
      *) echo "check_layers: $f (aws add-on) includes \"$inc\": only the public API and bp_aws headers"
         fail=1 ;;
    esac
  done
done

if [ "$fail" -ne 0 ]; then
  echo "check_layers: FAILED"
  exit 1
fi
echo "check_layers: $files files of $dir and $aws of $dir/aws, every include within its layer"
