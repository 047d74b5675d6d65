# Network namespaces for the tests that make them (xdp_netns_relay,
# xdp_relay_lifecycle, datapath_smoke), sourced by each. A test that cannot
# make one skips (exit 77), or fails when XDPTURN_REQUIRE_BPF=1; every
# namespace and veth pair made here is removed by netns_teardown, which the
# test's own EXIT trap calls.

netns_made=()
veth_made=()

# skip_or_fail REASON
skip_or_fail() {
  if [ "${XDPTURN_REQUIRE_BPF:-0}" = 1 ]; then echo "FAILED: $1"; exit 1; fi
  echo "SKIPPED: $1"
  exit 77
}

# netns_make NAME: a namespace, with its loopback up.
netns_make() {
  ip netns add "$1" 2>/dev/null || skip_or_fail "cannot create a network namespace (needs root)"
  netns_made+=("$1")
  ip netns exec "$1" ip link set lo up
}

# netns_probe: skips or fails unless namespaces can be made here (for a test
# whose namespaces another program makes).
netns_probe() {
  ip netns add "xdpturn-probe-$$" 2>/dev/null || skip_or_fail "cannot create a network namespace (needs root)"
  ip netns del "xdpturn-probe-$$"
}

# veth_into NS HOST_IF NS_IF: a veth pair with HOST_IF here and NS_IF in NS,
# both up.
veth_into() {
  local ns=$1 host_if=$2 ns_if=$3
  ip link add "$host_if" type veth peer name "$ns_if" && veth_made+=("$host_if") &&
    ip link set "$ns_if" netns "$ns" && ip link set "$host_if" up &&
    ip netns exec "$ns" ip link set "$ns_if" up || skip_or_fail "cannot set up the veth pair"
}

netns_teardown() {
  local name
  for name in "${veth_made[@]}"; do ip link del "$name" 2>/dev/null; done
  for name in "${netns_made[@]}"; do ip netns del "$name" 2>/dev/null; done
  veth_made=() netns_made=()
}

# Far-side captures: the callers set ns and ns_if, and keep tcpdump_pid and
# failed.
# start_far_capture FILE: tcpdump on the namespace's end of the link, in
# immediate mode: otherwise libpcap's TPACKET_V3 ring hands frames over a
# block at a time, a partly filled block only after its 1 s timeout, and the
# last frames of a session can still be in the kernel when tcpdump is stopped
# (they are not counted as dropped).
start_far_capture() {
  ip netns exec "$ns" tcpdump -i "$ns_if" --immediate-mode -U -w "$1" udp >"$1.log" 2>&1 &
  tcpdump_pid=$!
  for _ in $(seq 50); do grep -q listening "$1.log" && return; sleep 0.1; done
}
# stop_far_capture FILE: once tcpdump has written everything (the file stops
# growing; a busy machine can leave it seconds behind), stop it.
stop_far_capture() {
  local size=-1 now
  for _ in $(seq 50); do
    sleep 0.4
    now=$(stat -c %s "$1")
    [ "$now" = "$size" ] && break
    size=$now
  done
  kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" 2>/dev/null; tcpdump_pid=""
  grep -q '^0 packets dropped by kernel' "$1.log" || { echo "FAILED: tcpdump dropped frames:"; cat "$1.log"; failed=1; }
}
