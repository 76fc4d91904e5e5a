#!/usr/bin/env bash
# Builds the container base image deploy/Dockerfile needs (python3 + venv on Debian bookworm)
# from Debian's packages with debootstrap, for machines that reach no container registry.
#   scripts/make-base-image.sh [IMAGE]      default IMAGE: localhost/protobench-base:bookworm
# Then: podman build -f deploy/Dockerfile --build-arg BASE=IMAGE -t protobench .
# Uses podman, or docker when podman is missing. Needs root (debootstrap does).
set -euo pipefail

image="${1:-localhost/protobench-base:bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
engine="$(command -v podman || command -v docker || true)"
if [ -z "$engine" ] || ! command -v debootstrap >/dev/null 2>&1; then
  echo "protobench: needs debootstrap and podman (or docker): apt-get install debootstrap podman" >&2
  exit 1
fi
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$root" "$mirror" >&2
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | "$engine" import --change 'CMD ["/bin/bash"]' - "$image" >&2
echo "$image"
