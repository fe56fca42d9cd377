# Shared by koe's scripts (sourced, not run): messages, root, and apt-get.
# A script sets NAME before sourcing this file.

die() {
  echo "$NAME: error: $1" >&2
  [ $# -gt 1 ] && echo "$NAME: hint: $2" >&2
  exit 1
}
say() { echo "$NAME: $*" >&2; }

# as_root runs a command as root (directly, or with sudo that asks no password).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else die "need root to run: $*" "run this script as root, or with sudo that asks no password"
  fi
}

# apt_get runs apt-get as root, non-interactively. When another package
# manager holds apt's locks (unattended-upgrades, another apt-get), it
# waits for them, up to $KOE_APT_WAIT seconds (default 300), and then stops
# with a message rather than going on without the package. Any other
# failure stops at once, with apt-get's output.
apt_get() {
  local wait=${KOE_APT_WAIT:-300} start=$SECONDS out said=
  command -v apt-get >/dev/null || die "apt-get is not here: cannot install $*" "install the packages yourself (Debian names: $*)"
  while :; do
    if out=$(as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=10 -y -qq "$@" 2>&1); then
      return 0
    fi
    if ! grep -q -e 'Could not get lock' -e 'Unable to acquire the dpkg frontend lock' -e 'Unable to lock' <<<"$out"; then
      echo "$out" >&2
      return 1
    fi
    if [ $((SECONDS - start)) -ge "$wait" ]; then
      echo "$out" >&2
      die "apt-get $1: another package manager has held apt's lock for ${wait} s" \
          "wait until it is done (ps -C apt-get,apt,dpkg,unattended-upgr), then run this again; KOE_APT_WAIT sets the wait"
    fi
    [ -n "$said" ] || say "apt-get $1: another package manager holds apt's lock; waiting up to ${wait} s"
    said=1
    sleep "${KOE_APT_RETRY:-5}"
  done
}
