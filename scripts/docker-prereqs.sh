#!/usr/bin/env bash
# What the Compose stack needs on a machine with no container registry (safe to run again; each step
# is skipped when already done):
#   1. Docker Engine (Debian's docker.io) when no `docker` daemon binary is installed;
#   2. a running daemon (started in the background as root, log in $STATE/dockerd.log) when none answers;
#   3. the Compose v2 CLI plugin, built once from the Go module proxy and cached;
#   4. the Debian base images the Dockerfiles start FROM, made with debootstrap when absent
#      (a machine that reaches Docker Hub pulls them instead: set DOCKER_PREREQS_PULL=1);
#   5. docker/certs/ filled from the host's extra CA certificates so images trust a TLS-inspecting proxy.
# Where none of this is possible (not root, no apt), it says so in one line and exits 3.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COMPOSE_VERSION="${COMPOSE_VERSION:-v2.40.3}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/spotify-platform"
STATE="${DOCKER_PREREQS_STATE:-$CACHE/docker}"
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
mkdir -p "$CACHE" "$STATE" "$PLUGIN_DIR"
say() { echo "docker-prereqs: $*"; }
fail() { echo "docker-prereqs: $*" >&2; exit 3; }
if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="-"; fi

apt_install() {
  [ "$sudo" = "-" ] && fail "cannot install $* (not root and no sudo): install Docker yourself"
  command -v apt-get >/dev/null 2>&1 || fail "cannot install $* (no apt-get): install Docker yourself"
  say "installing $*"
  # Wait for the dpkg/apt lock rather than fail: another apt-get (a second helper, unattended-upgrades) may hold it.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "$@" >/dev/null
}

# 1. Engine.
if ! command -v dockerd >/dev/null 2>&1; then
  apt_install docker.io
fi
command -v docker >/dev/null 2>&1 || fail "no docker client after installing docker.io"

# 2. Daemon (never a second one: a second dockerd rewrites the host's docker0 bridge).
if ! docker info >/dev/null 2>&1; then
  if [ -S /var/run/docker.sock ] && pgrep -x dockerd >/dev/null 2>&1; then
    fail "a dockerd runs but does not answer this user (join the docker group or use sudo)"
  fi
  [ "$sudo" = "-" ] && fail "no Docker daemon runs and this user cannot start one"
  say "starting dockerd (log: $STATE/dockerd.log)"
  # setsid: the daemon outlives the shell (and the test run) that started it.
  $sudo setsid dockerd >>"$STATE/dockerd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not answer within 60 s (see $STATE/dockerd.log)"
fi

# 3. Compose v2 plugin.
if ! docker compose version >/dev/null 2>&1; then
  bin="$CACHE/docker-compose-$COMPOSE_VERSION"
  exec 9>"$bin.lock"; flock 9   # two runs at once build it once
  if [ ! -x "$bin" ]; then
    go=$(command -v go || echo /usr/local/go/bin/go)
    [ -x "$go" ] || fail "Compose v2 is missing and Go is not installed to build it"
    say "building the Compose $COMPOSE_VERSION plugin from the Go module proxy (a few minutes, once)"
    dir=$(cd "$CACHE" && GOFLAGS=-mod=mod "$go" mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    # `go install` refuses this module (its go.mod has exclude lines): build inside its folder.
    (cd "$dir" && CGO_ENABLED=0 "$go" build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" -o "$bin.tmp" ./cmd)
    mv "$bin.tmp" "$bin"
  fi
  install -m 0755 "$bin" "$PLUGIN_DIR/docker-compose"
  exec 9>&-
fi

# 4. Base images.
for suite in bookworm trixie; do
  image="debian:$suite-slim"
  docker image inspect "$image" >/dev/null 2>&1 && continue
  if [ "${DOCKER_PREREQS_PULL:-0}" = 1 ] && docker pull -q "$image" >/dev/null 2>&1; then continue; fi
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  [ "$sudo" = "-" ] && fail "cannot make $image (debootstrap needs root)"
  say "making $image with debootstrap (no registry; a minute or two)"
  rootfs=$(mktemp -d "$STATE/rootfs-$suite.XXXX")
  $sudo debootstrap --variant=minbase "$suite" "$rootfs" http://deb.debian.org/debian >"$STATE/debootstrap-$suite.log" 2>&1 \
    || { $sudo rm -rf "$rootfs"; fail "debootstrap $suite failed (see $STATE/debootstrap-$suite.log)"; }
  $sudo rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  $sudo tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' - "$image" >/dev/null
  $sudo rm -rf "$rootfs"
done

# 5. Extra CA certificates (empty folder by default; users behind a TLS-inspecting proxy put theirs here).
mkdir -p "$ROOT/docker/certs"
shopt -s nullglob
for crt in /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt; do
  dest="$ROOT/docker/certs/$(basename "$crt")"
  cmp -s "$crt" "$dest" || cp "$crt" "$dest"
done
say "ready ($(docker version -f 'engine {{.Server.Version}}'), $(docker compose version --short))"
