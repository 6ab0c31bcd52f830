#!/bin/sh
# Installs the Debian packages braid needs to build and test (when run as
# root; otherwise prints the apt-get line), then generates ./configure.
set -e
cd "$(dirname "$0")"
pkgs="autoconf automake libtool pkg-config make gcc clang libzstd-dev libxxhash-dev libcriterion-dev zstd jq mandoc libopenmpi-dev openmpi-bin"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# rr is optional: braid-replay --rr uses it where the CPU allows.  OpenMPI
# (libopenmpi-dev openmpi-bin) is optional too: braid-record --mpi needs it,
# and it is the MPI that CI tests with.
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "bootstrap: installing$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "bootstrap: missing packages; run as root:"
    echo "  apt-get install -y$missing"
    exit 1
  fi
fi
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
