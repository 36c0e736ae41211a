#!/usr/bin/env bash
# Offline, proven: after set-up (`make demo` once with the network, which creates .venv), run the demo
# and the tests again inside a network namespace that has only a loopback interface.
#
#   bash benchmarks/offline.sh            # make demo and make test, no network
#   bash benchmarks/offline.sh demo       # just one of them
#
# Needs `unshare` (util-linux) and `ip` (iproute2), and root or unprivileged user namespaces.
# Kernels and JupyterLab talk over 127.0.0.1, so the namespace brings `lo` up; nothing else exists.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("${@:-demo test}")
if [ ! -x .venv/bin/python ]; then
    echo "Set up first, with the network: make demo (creates .venv)" >&2
    exit 2
fi
as_root=()
[ "$(id -u)" -ne 0 ] && as_root=(--map-root-user)
for target in ${targets[@]}; do
    echo "== make $target, with no network"
    unshare --net "${as_root[@]}" sh -c "ip link set lo up && \
        python3 -c 'import socket; socket.create_connection((\"pypi.org\", 443), timeout=3)' 2>/dev/null \
        && { echo 'the network is reachable: not an offline run' >&2; exit 3; } ; make $target"
done
echo "offline: make ${targets[*]} passed"
