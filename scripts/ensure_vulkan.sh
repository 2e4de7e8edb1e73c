#!/usr/bin/env bash
# Make sure SAPIEN can find a Vulkan device (it renders the cameras even on a CPU-only machine).
#
# Debian 12's own Mesa (22.3) lavapipe is refused by SAPIEN ("failed to find a rendering device");
# Mesa 25's lavapipe from bookworm-backports works. On Debian with root we install it; anywhere else we
# stop with a message that says exactly what to install.
set -euo pipefail
PY=${1:-.venv/bin/python}

probe() {
  "$PY" - <<'PYEOF' >/dev/null 2>&1
import sapien
sapien.render.RenderSystem()
PYEOF
}

if probe; then
  echo "vulkan: SAPIEN found a rendering device"
  exit 0
fi

if [ -r /etc/os-release ] && . /etc/os-release && [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ] \
   && [ "$(id -u)" = 0 ]; then
  echo "vulkan: no rendering device; installing Mesa lavapipe from bookworm-backports"
  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  if probe; then
    echo "vulkan: lavapipe installed, SAPIEN found a rendering device"
    exit 0
  fi
  echo "vulkan: lavapipe installed but SAPIEN still finds no rendering device" >&2
  exit 1
fi

cat >&2 <<'MSG'
vulkan: SAPIEN found no Vulkan rendering device, and this is not Debian 12 run as root, so nothing was installed.
Install a Vulkan driver, then rerun `make setup`:
  - NVIDIA GPU: the NVIDIA driver with its Vulkan ICD (check with `vulkaninfo --summary`).
  - CPU only (Debian/Ubuntu): Mesa >= 24 lavapipe, e.g. on Debian 12:
      echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list
      apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1
MSG
exit 1
