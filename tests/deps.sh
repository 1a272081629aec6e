#!/bin/sh
# Installs the Debian packages named as arguments that are not installed yet.
# Idempotent and silent when everything is present; needs root (or sudo) only when installing.
set -eu
missing=
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "deps: not root and no sudo: install these packages:$missing" >&2
	exit 71
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # word splitting of the package list is intended
$sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq --no-install-recommends $missing >&2
