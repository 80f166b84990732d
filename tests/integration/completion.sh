#!/bin/bash
# SPDX-License-Identifier: CDDL-1.0
# completion.sh ZFUSE — the bash completion (contrib/completion/zfuse.bash)
# as a user meets it: verbs, mount options, create properties and values,
# inspect targets, and dataset names read from the image on the line.
ZFUSE=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ -f /usr/share/bash-completion/bash_completion ] || die "bash-completion is not installed"
PATH=$(dirname "$ZFUSE"):$PATH
. /usr/share/bash-completion/bash_completion
. "$here/../../contrib/completion/zfuse.bash"
fail=0
snap=$(unpack snapshots)
img=$(images "$snap" | head -1)

# complete LINE: the candidates bash would offer for LINE (cursor at end)
complete_line() {
	COMP_LINE=$1
	COMP_POINT=${#COMP_LINE}
	read -ra COMP_WORDS <<< "$COMP_LINE"
	[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_zfuse zfuse "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}"
}

# expect LINE WORD...: every WORD is among the candidates
expect() {
	local line=$1; shift
	local got; got=$(complete_line "$line")
	for w in "$@"; do
		if ! grep -qxF -- "$w" <<< "$got"; then
			echo "not ok: '$line' does not offer '$w' (offers: $(echo $got | head -c 200))"
			fail=1; return
		fi
	done
	echo "ok: '$line' offers $*"
}

expect "zfuse " mount unmount create inspect version help
expect "zfuse mo" mount
expect "zfuse mount -o " ro rw dataset= cache_size= private allow_other
expect "zfuse mount -o ro,ca" ro,cache_size=
expect "zfuse mount $img /mnt -o dataset=snap" dataset=snapshots dataset=snapshots/a dataset=snapshots/a@rs
expect "zfuse create -O comp" compression=
expect "zfuse create -O compression=zs" compression=zstd compression=zstd-19
expect "zfuse create -O checksum=" checksum=blake3 checksum=sha256
expect "zfuse create pool " mirror raidz2
expect "zfuse inspect $img " labels uberblocks datasets verify
expect "zfuse inspect $img objects " mos snapshots snapshots/a
expect "zfuse inspect --" --json --txg --rewind
expect "zfuse help " mount inspect
expect "zfuse " list get set inherit
expect "zfuse list -o na" name
expect "zfuse get -t " snapshot bookmark
# every command of `zfuse help`
expect "zfuse " $("$ZFUSE" help | awk '/^  [a-z]/ { print $1 }')
expect "zfuse status -" -v --json
expect "zfuse scrub -" -s -w
exit $fail
