#!/bin/sh
# SPDX-License-Identifier: MIT
# libbatchpoint-aws exports only its public bp_aws_ API (its bp__aws_ internals stay hidden).
# usage: check_aws_symbols.sh BUILD
set -eu
lib=$1/libbatchpoint-aws.so.0
exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$exported" | grep -v -E '^(bp_aws_[a-z0-9]|_init$|_fini$|_edata$|_end$|__bss_start$|BATCHPOINT_AWS_)' || true)
if [ -n "$bad" ]; then echo "check-aws-symbols: unexpected exports:"; echo "$bad"; exit 1; fi
echo "check-aws-symbols: $(printf '%s\n' "$exported" | grep -c '^bp_aws_' || true) exported symbols, all bp_aws_"
