# SPDX-License-Identifier: CDDL-1.0
# bash completion for zfuse(8) — verbs, options, mount options, pool and
# dataset properties, and dataset names read from the images already on
# the command line (through `zfuse inspect ... datasets`, which reads only
# the MOS). Installed as /usr/share/bash-completion/completions/zfuse.

_zfuse_images() {
	# the image arguments typed so far (files and directories), skipping
	# the verb, options and their values
	local i w skip=0
	for ((i = 2; i < cword; i++)); do
		w=${words[i]}
		if ((skip)); then skip=0; continue; fi
		case $w in
		-o|-O|-s|--txg|--pool) skip=1 ;;
		-*) ;;
		*) [[ -e $w ]] && printf '%s\n' "$w" ;;
		esac
	done
}

_zfuse_datasets() {
	local imgs
	mapfile -t imgs < <(_zfuse_images)
	((${#imgs[@]})) || return
	zfuse inspect --json "${imgs[@]}" datasets 2>/dev/null |
		grep -o '"name":"[^"]*"' | cut -d'"' -f4 | grep -v '#'
}

_zfuse_mount_options() {
	local cur=$1 prefix="" opts
	opts="ro rw private dataset= pool= keylocation= keys= cache_size= txg= rewind nonested
		max_threads= max_idle_threads= clone_fd spin= noprefill allow_other allow_root
		auto_unmount default_permissions fsname= subtype= max_read= suid nosuid
		dev nodev exec noexec atime noatime relatime strictatime"
	if [[ $cur == *,* ]]; then
		prefix=${cur%,*},
		cur=${cur##*,}
	fi
	if [[ $cur == dataset=* ]]; then
		local ds
		ds=$(_zfuse_datasets)
		COMPREPLY=($(compgen -P "${prefix}dataset=" -W "$ds" -- "${cur#dataset=}"))
		return
	fi
	COMPREPLY=($(compgen -P "$prefix" -W "$opts" -- "$cur"))
	[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
}

_zfuse() {
	local cur prev words cword
	_init_completion -n = || return
	local verbs="mount unmount umount create inspect list get set inherit userspace groupspace
		projectspace snapshot destroy
		rollback clone promote rename bookmark hold release holds load-key unload-key change-key status scrub
		clear version help"
	if ((cword == 1)); then
		COMPREPLY=($(compgen -W "$verbs --help --version" -- "$cur"))
		return
	fi
	local verb=${words[1]}
	case $verb in
	help)
		COMPREPLY=($(compgen -W "$verbs" -- "$cur")) ;;
	mount)
		if [[ $prev == -o ]]; then
			_zfuse_mount_options "$cur"
		elif [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-f -d -v -o --help" -- "$cur"))
		else
			_filedir
		fi ;;
	unmount|umount)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-l" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(awk '$3 == "fuse.zfuse" { print $2 }' /proc/mounts)" -- "$cur"))
		fi ;;
	create)
		case $prev in
		-o)
			COMPREPLY=($(compgen -W "ashift= feature@" -- "$cur"))
			compopt -o nospace 2>/dev/null
			return ;;
		-O)
			if [[ $cur == *=* ]]; then
				local p=${cur%%=*} v
				case $p in
				compression) v="on off lz4 lzjb zle gzip gzip-1 gzip-9 zstd zstd-1 zstd-19 zstd-fast" ;;
				checksum) v="on off fletcher2 fletcher4 sha256 sha512 skein edonr blake3" ;;
				atime|canmount|utf8only) v="on off" ;;
				xattr) v="on off sa dir" ;;
				dnodesize) v="legacy auto 1k 2k 4k 8k 16k" ;;
				casesensitivity) v="sensitive insensitive mixed" ;;
				normalization) v="none formC formD formKC formKD" ;;
				copies) v="1 2 3" ;;
				recordsize) v="4K 8K 16K 32K 64K 128K 256K 512K 1M" ;;
				esac
				COMPREPLY=($(compgen -P "$p=" -W "$v" -- "${cur#*=}"))
			else
				COMPREPLY=($(compgen -S = -W "compression checksum recordsize copies atime dnodesize
					xattr mountpoint canmount normalization utf8only casesensitivity" -- "$cur"))
				compopt -o nospace 2>/dev/null
			fi
			return ;;
		-s) return ;;
		--from) _filedir -d; return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-f -s -o -O --from --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "mirror raidz raidz1 raidz2 raidz3" -- "$cur"))
			_filedir
		fi ;;
	inspect)
		case $prev in
		--txg|--pool) return ;;
		--keys) _filedir; return ;;
		--key) COMPREPLY=($(compgen -W "prompt file://" -- "$cur")); compopt -o nospace 2>/dev/null; return ;;
		objects|object|cat|extract|zil)
			COMPREPLY=($(compgen -W "$(_zfuse_datasets) $([[ $prev == objects || $prev == object ]] && echo mos)" -- "$cur"))
			return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--json -v -vv -vvv --txg --rewind --pool --key --keys --help" -- "$cur"))
		else
			local whats="labels uberblocks pool datasets objects object block cat extract verify zil"
			COMPREPLY=($(compgen -W "$whats" -- "$cur"))
			_filedir
		fi ;;
	list|get|set|inherit)
		local props="type creation used available referenced compressratio mounted origin
			quota reservation volsize volblocksize recordsize mountpoint sharenfs checksum
			compression atime devices exec setuid readonly zoned snapdir aclmode aclinherit
			createtxg canmount xattr copies version utf8only normalization casesensitivity
			vscan nbmand sharesmb refquota refreservation guid primarycache secondarycache
			usedbysnapshots usedbydataset usedbychildren usedbyrefreservation logbias
			objsetid dedup mlslabel sync dnodesize refcompressratio written clones
			logicalused logicalreferenced volmode snapdev acltype relatime
			redundant_metadata overlay special_small_blocks prefetch direct longname"
		case $prev in
		-d|--dir) _filedir; return ;;
		-o|-s|-S) COMPREPLY=($(compgen -W "name $props" -- "$cur")); return ;;
		-t) COMPREPLY=($(compgen -W "all filesystem snapshot volume bookmark" -- "$cur")); return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-H -p -r -d -o -s -S -t --help" -- "$cur"))
		elif [[ $verb == set && $cur != *=* && $cur != */* ]]; then
			COMPREPLY=($(compgen -S = -W "$props" -- "$cur") $(compgen -W "$(_zfuse_datasets)" -- "$cur"))
			compopt -o nospace 2>/dev/null
		else
			COMPREPLY=($(compgen -W "$(_zfuse_datasets) $([[ $verb == get ]] && echo all)" -- "$cur"))
		fi ;;
	userspace|groupspace|projectspace)
		case $prev in
		-d|--dir) _filedir; return ;;
		-o) COMPREPLY=($(compgen -W "type name used quota objused objquota" -- "$cur")); return ;;
		-s|-S) COMPREPLY=($(compgen -W "type name used quota" -- "$cur")); return ;;
		-t) COMPREPLY=($(compgen -W "all posixuser posixgroup smbuser smbgroup" -- "$cur")); return ;;
		esac
		if [[ $cur == -* ]]; then
			local o="-d -H -p -o -s -S --help"
			[[ $verb != projectspace ]] && o+=" -n -i -t"
			COMPREPLY=($(compgen -W "$o" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_zfuse_datasets)" -- "$cur"))
		fi ;;
	snapshot|destroy|rollback|clone|promote|rename|bookmark|hold|release|holds|load-key|unload-key|change-key)
		case $prev in
		-d|--dir) _filedir; return ;;
		-L) COMPREPLY=($(compgen -W "prompt file://" -- "$cur")); compopt -o nospace 2>/dev/null; return ;;
		esac
		if [[ $cur == -* ]]; then
			local o="-d -r -R -n -v -p -o -f --help"
			[[ $verb == load-key ]] && o="-d -L -r --help"
			[[ $verb == unload-key ]] && o="-r --help"
			[[ $verb == change-key ]] && o="-d -i -l -o --help"
			COMPREPLY=($(compgen -W "$o" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_zfuse_datasets)" -- "$cur"))
		fi ;;
	status|scrub|clear)
		case $prev in
		-d|--dir) _filedir; return ;;
		esac
		if [[ $cur == -* ]]; then
			local o="-d --help"
			[[ $verb == status ]] && o+=" -v -j --json"
			[[ $verb == scrub ]] && o+=" -s -w"
			COMPREPLY=($(compgen -W "$o" -- "$cur"))
		else
			# pools of zfuse mounts (source zfuse:POOL/...), and their mount points
			COMPREPLY=($(compgen -W "$(awk '$1 ~ /^zfuse:/ { sub(/^zfuse:/, "", $1);
				sub(/[\/@].*/, "", $1); print $1; print $2 }' /proc/mounts | sort -u)" -- "$cur"))
		fi ;;
	esac
}
complete -F _zfuse zfuse
