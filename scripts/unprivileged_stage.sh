#!/bin/sh
# Prepares a place from which the test suite can run as an unprivileged
# user (under qemu-user for another architecture), wherever the checkout
# is: root's home (mode 0700), a path with spaces, the temporary directory.
#
#   scripts/unprivileged_stage.sh SOURCE_DIR UID [RUNNER...]
#
# prints the path of a new directory (mode 0755, in /tmp) holding
#   src/     a read-only copy of what the tests read at run time (fixtures,
#            scripts, openwrt/files/, dist/; not target/ or .git),
#   shared/  the shared captures, when ../shared/captures is beside SOURCE_DIR,
#   bin/     the test binaries, linked or copied there as they run,
#   run      the runner for cargo (CARGO_TARGET_<TRIPLE>_RUNNER): it puts the
#            test binary into bin/, enters src/ and runs it as UID with no
#            supplementary groups and no capabilities, through RUNNER
#            (e.g. qemu-mips-static), with WSFLOWD_SOURCE_DIR=src/ so that
#            tests find their files there rather than in the checkout.
# The caller removes the directory. Nothing in the checkout changes, and
# nothing the unprivileged user can write is ever run as root.
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 SOURCE_DIR UID [RUNNER...]" >&2
	exit 2
fi
src=$1
uid=$2
shift 2

# The stage's path goes into cargo's runner setting, which is split on
# spaces: it must have none, whatever TMPDIR says.
stage=$(mktemp -d /tmp/wsflowd-unprivileged.XXXXXX)
chmod 0755 "$stage"
mkdir "$stage/src" "$stage/bin"
(cd "$src" && tar --exclude=./target --exclude=./.git --exclude=./fuzz/target \
	--exclude=./fuzz/corpus --exclude=./fuzz/artifacts \
	--exclude=./tests/luci/node_modules -cf - .) | tar -C "$stage/src" -xf -
if [ -d "$src/../shared/captures" ]; then
	mkdir "$stage/shared"
	cp -R "$src/../shared/captures" "$stage/shared/captures"
fi
# Readable (and directories enterable) by everyone, writable by root only.
chmod -R u+rwX,go+rX,go-w "$stage"

runner=$*
cat >"$stage/run" <<EOF
#!/bin/sh
# cargo's test runner (see scripts/unprivileged_stage.sh).
set -e
bin="$stage/bin/\$(basename "\$1")"
ln -f "\$1" "\$bin" 2>/dev/null || cp "\$1" "\$bin"
chmod 0755 "\$bin"
shift
cd "$stage/src"
exec env WSFLOWD_SOURCE_DIR="$stage/src" \\
	setpriv --reuid=$uid --regid=$uid --clear-groups --inh-caps=-all --bounding-set=-all \\
	$runner "\$bin" "\$@"
EOF
chmod 0755 "$stage/run"
echo "$stage"
