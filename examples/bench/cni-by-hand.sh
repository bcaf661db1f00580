#!/bin/bash
# The CNI plugin chain Berth runs, run by hand: what NetworkBenchmark times against Berth's own
# attachment. TEMPLATES holds the plugin configurations Berth handed the plugins (captured by
# NetworkBenchmark through logging shims), one file a call, named NN-COMMAND-PLUGIN.json, with
# @PREV@ where the previous result goes and @PORT@ for the published host port.
# Usage: cni-by-hand.sh TEMPLATES CONTAINER_ID NETNS_NAME HOST_PORT
# Prints: netns-add-ms add-ms del-ms netns-del-ms (ADD = every plugin's ADD, in order, each
# fed the previous one's result; DEL = the chain backwards, with the last ADD result, as libcni does).
# Only builtins between the plugins, so that the shell costs next to nothing.
set -eu
export LC_ALL=C
dir=$1 id=$2 ns=$3 port=$4
cni=${CNI_PLUGIN_DIR:-/usr/lib/cni}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin CNI_CONTAINERID=$id CNI_NETNS=/run/netns/$ns CNI_IFNAME=eth0 CNI_PATH=$cni
us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
ms() { printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )); }

declare -a adds=() dels=() addcfg=() delcfg=()
for f in "$dir"/*-ADD-*.json; do
    IFS= read -r -d '' c < "$f" || true
    p=${f##*-ADD-}; adds+=("${p%.json}"); addcfg+=("$c")
done
for f in "$dir"/*-DEL-*.json; do
    IFS= read -r -d '' c < "$f" || true
    p=${f##*-DEL-}; dels+=("${p%.json}"); delcfg+=("$c")
done

t0=$EPOCHREALTIME; t0=${t0/./}
ip netns add "$ns"
t1=$EPOCHREALTIME; t1=${t1/./}
prev=
for i in "${!adds[@]}"; do
    c=${addcfg[$i]//@PORT@/$port}; c=${c//@PREV@/$prev}
    prev=$(CNI_COMMAND=ADD "$cni/${adds[$i]}" <<<"$c") || { echo "ADD ${adds[$i]} failed: $prev" >&2; exit 1; }
done
t2=$EPOCHREALTIME; t2=${t2/./}
for i in "${!dels[@]}"; do
    c=${delcfg[$i]//@PORT@/$port}; c=${c//@PREV@/$prev}
    out=$(CNI_COMMAND=DEL "$cni/${dels[$i]}" <<<"$c") || { echo "DEL ${dels[$i]} failed: $out" >&2; exit 1; }
done
t3=$EPOCHREALTIME; t3=${t3/./}
ip netns del "$ns"
t4=$EPOCHREALTIME; t4=${t4/./}
echo "$(ms $((t1 - t0))) $(ms $((t2 - t1))) $(ms $((t3 - t2))) $(ms $((t4 - t3)))"
