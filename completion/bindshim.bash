# bash completion for bindshim(1): verbs, each verb's options, policy files,
# interface names after -t interface:, commands after run --.
# Installed as $(PREFIX)/share/bash-completion/completions/bindshim.

# Words of the line up to the cursor, split on blanks only (bash also splits on
# ':', which would cut interface:NAME in two).
_bindshim_words()
{
	local line=${COMP_LINE:0:COMP_POINT}
	read -r -a _bs_words <<<"$line"
	[[ $line == *[[:blank:]] || -z $line ]] && _bs_words+=("")
}

# Completes policy files: *.cfg and directories.
_bindshim_policies()
{
	local IFS=$'\n'
	COMPREPLY+=($(compgen -d -S / -- "$1") $(compgen -f -X '!*.cfg' -- "$1"))
	compopt -o nospace -o filenames 2>/dev/null
}

# Completes a rewrite target; interface names come from /sys/class/net.
_bindshim_targets()
{
	local cur=$1 ifs=() i
	if [[ $cur == interface:* ]]; then
		for i in /sys/class/net/*; do
			[[ -e $i ]] && ifs+=("interface:${i##*/}")
		done
		COMPREPLY=($(compgen -W "${ifs[*]}" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "loopback interface:" -- "$cur"))
		[[ ${COMPREPLY[*]} == interface: ]] && compopt -o nospace 2>/dev/null
	fi
}

_bindshim_main()
{
	local _bs_words verb="" i cur prev dashdash=0 nonopt=0
	local common="-p --policy -l --loopback -t --to -h --help"
	_bindshim_words
	cur=${_bs_words[-1]}
	prev=${_bs_words[-2]:-}
	COMPREPLY=()

	for ((i = 1; i < ${#_bs_words[@]} - 1; i++)); do
		if [[ -z $verb ]]; then
			[[ ${_bs_words[i]} != -* ]] && verb=${_bs_words[i]}
			continue
		fi
		case ${_bs_words[i]} in
		--) dashdash=1; break ;;
		-p | --policy | -t | --to | --log | --log-format | --io-uring-errno | \
			--program | --uid | --cgroup | --pin) ((i++)) ;;
		-*) ;;
		*) nonopt=$((nonopt + 1)) ;;
		esac
	done

	if [[ -z $verb ]]; then
		COMPREPLY=($(compgen -W "run check explain audit system version --help --version" \
			-- "$cur"))
		return
	fi
	if [[ $verb == run ]] && ((dashdash || nonopt)); then
		# The command, then its own arguments.
		if ((dashdash && nonopt == 0 && i == ${#_bs_words[@]} - 2)); then
			COMPREPLY=($(compgen -c -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
			compopt -o filenames 2>/dev/null
		fi
		return
	fi

	case $prev in
	-p | --policy) _bindshim_policies "$cur"; return ;;
	-t | --to) _bindshim_targets "$cur"; return ;;
	--log)
		COMPREPLY=($(compgen -W "stderr syslog" -- "$cur") $(compgen -f -- "$cur"))
		return ;;
	--log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
	--io-uring-errno) COMPREPLY=($(compgen -W "ENOSYS EPERM EACCES EINVAL" -- "$cur")); return ;;
	--program | --uid) return ;;
	--cgroup | --pin) COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null
		return ;;
	esac

	if [[ $cur == -* ]]; then
		case $verb in
		run) COMPREPLY=($(compgen -W "$common --log --log-format --dry-run --enforce \
			--preload-only --io-uring-errno --" -- "$cur")) ;;
		check) COMPREPLY=($(compgen -W "-q --quiet -h --help --" -- "$cur")) ;;
		explain) COMPREPLY=($(compgen -W "$common --udp --program --uid --v6only --kernel" \
			-- "$cur")) ;;
		audit) COMPREPLY=($(compgen -W "$common --json" -- "$cur")) ;;
		system) COMPREPLY=($(compgen -W "-p --policy --cgroup --pin --no-lsm --log \
			--log-format -h --help" -- "$cur")) ;;
		esac
		return
	fi
	case $verb in
	check) _bindshim_policies "$cur" ;;
	system) ((nonopt == 0)) &&
		COMPREPLY=($(compgen -W "enable reload disable status watch" -- "$cur")) ;;
	run) COMPREPLY=($(compgen -c -- "$cur")) ;;
	esac
}

_bindshim()
{
	local cur i
	_bindshim_main
	# bash took the part of the word before its last ':' as another word already.
	_bindshim_words
	cur=${_bs_words[-1]}
	if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=${COMPREPLY[i]#"${cur%"${cur##*:}"}"}
		done
	fi
}

complete -F _bindshim bindshim
