#compdef routerctl

__routerctl_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__routerctl_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __routerctl_complete "${completions[@]:0:-1}"
    fi
}

__routerctl_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_routerctl() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'add:Add a route: a custom name, a random subdomain, a TCP port, or a wildcard.'
            'set:Change a route'\''s target, labels or access rules in place.'
            'delete:Delete routes by key, or every route of a tunnel (uuid:ID).'
            'lookup:Find the route a key, a raw Host header value or an SNI name goes to.'
            'list:List routes in key order, streamed a page at a time.'
            'watch:Print each change as it happens, until Ctrl-C.'
            'touch:Renew a route'\''s expiry (or every route of a tunnel'\''s, with uuid:ID).'
            'stats:Show route counts, revision, connections, watchers, uptime, memory and the store.'
            'namespaces:Show the namespaces you belong to (admins: all), with their use against their quotas.'
            'history:Show recorded changes, newest first: who changed a route, when, from where.'
            'dns:Show what routerd'\''s DNS answers for a name, and why.'
            'ping:Check that routerd answers; with --wait, retry until it does.'
            'shell:The interactive shell: the same commands and flags, one connection, history and completion.'
            'batch:Run many commands from stdin or a file, pipelined.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        add|set|delete|lookup|list|watch|touch|stats|namespaces|history|dns|ping|shell|batch|help)
            "_routerctl_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_routerctl_add() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        ':key:'
        '--random[Pick a random free subdomain instead of KEY.]'
        '--domain[With --random\: the base domain to pick under.]:domain:'
        '--tunnel[The tunnel id (default\: the daemon assigns a UUID).]:id:'
        '--target[Where the gateway forwards\: host\:port, \[v6\]\:port or unix\:/path.]:address:'
        '--ttl[Lapse after this long unless touched\: 30s, 5m, 2h, 1h30m.]:duration:'
        '--session[Bind the route to this connection and hold it in the foreground until Ctrl-C.]'
        '--replace[Take the key over from another tunnel.]'
        '*--label[A label, key=value (repeatable).]:k=v:'
        '*--allow[Only clients in this address block may connect through a gateway\: 10.0.0.0/8, 2001\:db8\:\:/32 (repeatable).]:cidr:'
        '*--deny[Clients in this address block may not, even when allowed (repeatable).]:cidr:'
        '--owner[Admins\: record this owner instead of yourself.]:user:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_set() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        ':key:{__routerctl_custom_complete ---completion set -- positional@0 "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        '--target[Where the gateway forwards\: host\:port, \[v6\]\:port or unix\:/path.]:host\:port:'
        '--no-target[Take the target away (the tunnel is offline\: gateways answer 502).]'
        '*--label[A label k=v; repeat for several. The route'\''s labels become exactly these.]:k=v:'
        '--no-labels[Remove every label.]'
        '*--allow[An address block that may connect; repeat for several. Replaces the allow list.]:cidr:'
        '--no-allow[Empty the allow list (everyone not denied may connect).]'
        '*--deny[An address block refused; repeat for several. Replaces the deny list.]:cidr:'
        '--no-deny[Empty the deny list.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_delete() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        '*:key:{__routerctl_custom_complete ---completion delete -- positional@0 "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        '--ignore-missing[Exit 0 when a key is not there (for idempotent scripts).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_lookup() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        ':host-or-key:{__routerctl_custom_complete ---completion lookup -- positional@0 "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        '--sni[Treat the argument as a TLS SNI name rather than a Host header value.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_list() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        '--prefix[Keys starting with this.]:prefix:{__routerctl_custom_complete ---completion list -- --prefix "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        '--tunnel[Routes of this tunnel.]:id:'
        '--owner[Routes of this owner (admins).]:user:'
        '--kind[host, wildcard or tcp.]:kind:'
        '--label[Routes with this label (k=v).]:k=v:'
        '(-n --namespace)'{-n,--namespace}'[Routes in this namespace (routerctl namespaces lists yours).]:name:{__routerctl_custom_complete ---completion list -- --namespace "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        '--limit[At most this many routes.]:n:'
        '--held[List the names held for their last owners instead of routes (routerd --db --hold-released)\: key, owner, and until when.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_watch() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        '--from-revision[Replay events from this revision (inclusive) first.]:n:'
        '--instance[The daemon instance --from-revision belongs to (from `ping -o json` or an earlier watch); a restarted daemon then answers compacted (status 70) instead of replaying another instance'\''s revisions.]:id:'
        '--prefix[Only keys starting with this.]:prefix:{__routerctl_custom_complete ---completion watch -- --prefix "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        '--tunnel[Only routes of this tunnel.]:id:'
        '(-n --namespace)'{-n,--namespace}'[Only changes in this namespace (routerctl namespaces lists yours).]:name:{__routerctl_custom_complete ---completion watch -- --namespace "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        '--count[Exit 0 after this many changes (the replay'\''s included; the sync marker does not count)\: a script'\''s way to wait for a change.]:n:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_touch() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        ':key:{__routerctl_custom_complete ---completion touch -- positional@0 "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        '--ttl[A new TTL\: 30s, 5m, 2h, 1h30m.]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_stats() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_namespaces() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_history() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        ':key:{__routerctl_custom_complete ---completion history -- positional@0 "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        '--owner[Changes to this owner'\''s routes (admins).]:user:'
        '--tunnel[Changes to this tunnel'\''s routes.]:id:'
        '--since[Changes in this last while (1h, 2d, …).]:duration:'
        '--limit[At most this many changes (100 when not given).]:n:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_dns() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        ':name:{__routerctl_custom_complete ---completion dns -- positional@0 "${current_word_index}" "$(__routerctl_cursor_index_in_current_word)"}'
        ':type:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_ping() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        '--wait[Keep retrying for this long.]:duration:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_shell() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_batch() {
    local -i ret=1
    local -ar ___output=('table' 'wide' 'json' 'name')
    local -ar arg_specs=(
        '--socket[The daemon'\''s socket (default\: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).]:path:_files'
        '(-o --output)'{-o,--output}'[Output format\: table, wide (more columns), json (the protocol'\''s result; NDJSON for list and watch) or name (keys only).]:format:{__routerctl_complete "${___output[@]}"}'
        '(-q --quiet)'{-q,--quiet}'[Print nothing on success (errors still go to stderr).]'
        '--no-color[No colour, even on a terminal (NO_COLOR set in the environment does the same).]'
        '--timeout[How long to wait for routerd to answer (watch waits for ever once started).]:duration:'
        '--url[Talk to routerd'\''s HTTP API at this URL (http\://HOST\:PORT or https\://…) instead of a socket (default\: $ROUTER_URL when --socket is not given).]:url:'
        '--token-file[With --url\: read the bearer token from this file (default\: $ROUTER_TOKEN).]:path:_files'
        '--cacert[With an https\:// --url\: trust the server certificates this PEM file holds (default\: the system'\''s trust store).]:path:_files'
        '(-f --file)'{-f,--file}'[Read commands from this file instead of stdin.]:path:_files'
        '--atomic[Apply every line or none, as one protocol batch request.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_routerctl_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _routerctl ]]; then
    _routerctl "${@}"
else
    compdef _routerctl routerctl
fi
