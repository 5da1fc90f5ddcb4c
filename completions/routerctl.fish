function __routerctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __routerctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __routerctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __routerctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __routerctl_parse_tokens -S
    set -l unparsed_tokens (__routerctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'routerctl'
        __routerctl_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'add'
            __routerctl_parse_subcommand 1 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'random' 'domain=' 'tunnel=' 'target=' 'ttl=' 'session' 'replace' 'label=+' 'allow=+' 'deny=+' 'owner=' 'version' 'h/help'
        case 'set'
            __routerctl_parse_subcommand 1 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'target=' 'no-target' 'label=+' 'no-labels' 'allow=+' 'no-allow' 'deny=+' 'no-deny' 'version' 'h/help'
        case 'delete'
            __routerctl_parse_subcommand -r 1 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'ignore-missing' 'version' 'h/help'
        case 'lookup'
            __routerctl_parse_subcommand 1 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'sni' 'version' 'h/help'
        case 'list'
            __routerctl_parse_subcommand 0 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'prefix=' 'tunnel=' 'owner=' 'kind=' 'label=' 'n/namespace=' 'limit=' 'held' 'version' 'h/help'
        case 'watch'
            __routerctl_parse_subcommand 0 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'from-revision=' 'instance=' 'prefix=' 'tunnel=' 'n/namespace=' 'count=' 'version' 'h/help'
        case 'touch'
            __routerctl_parse_subcommand 1 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'ttl=' 'version' 'h/help'
        case 'stats'
            __routerctl_parse_subcommand 0 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'version' 'h/help'
        case 'namespaces'
            __routerctl_parse_subcommand 0 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'version' 'h/help'
        case 'history'
            __routerctl_parse_subcommand 1 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'owner=' 'tunnel=' 'since=' 'limit=' 'version' 'h/help'
        case 'dns'
            __routerctl_parse_subcommand 2 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'version' 'h/help'
        case 'ping'
            __routerctl_parse_subcommand 0 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'wait=' 'version' 'h/help'
        case 'shell'
            __routerctl_parse_subcommand 0 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'version' 'h/help'
        case 'batch'
            __routerctl_parse_subcommand 0 'socket=' 'o/output=' 'q/quiet' 'no-color' 'timeout=' 'url=' 'token-file=' 'cacert=' 'f/file=' 'atomic' 'version' 'h/help'
        case 'help'
            __routerctl_parse_subcommand -r 1 'version'
        end
    end
end

function __routerctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __routerctl_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __routerctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __routerctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__routerctl_tokens -p)
    if test -z "$(__routerctl_tokens -t)"
        set -l index (count (__routerctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'routerctl' -f
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'add' -d 'Add a route: a custom name, a random subdomain, a TCP port, or a wildcard.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'set' -d 'Change a route\'s target, labels or access rules in place.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'delete' -d 'Delete routes by key, or every route of a tunnel (uuid:ID).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'lookup' -d 'Find the route a key, a raw Host header value or an SNI name goes to.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'list' -d 'List routes in key order, streamed a page at a time.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'watch' -d 'Print each change as it happens, until Ctrl-C.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'touch' -d 'Renew a route\'s expiry (or every route of a tunnel\'s, with uuid:ID).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'stats' -d 'Show route counts, revision, connections, watchers, uptime, memory and the store.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'namespaces' -d 'Show the namespaces you belong to (admins: all), with their use against their quotas.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'history' -d 'Show recorded changes, newest first: who changed a route, when, from where.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'dns' -d 'Show what routerd\'s DNS answers for a name, and why.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'ping' -d 'Check that routerd answers; with --wait, retry until it does.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'shell' -d 'The interactive shell: the same commands and flags, one connection, history and completion.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'batch' -d 'Run many commands from stdin or a file, pipelined.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" random' -l 'random' -d 'Pick a random free subdomain instead of KEY.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" domain' -l 'domain' -d 'With --random: the base domain to pick under.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" tunnel' -l 'tunnel' -d 'The tunnel id (default: the daemon assigns a UUID).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" target' -l 'target' -d 'Where the gateway forwards: host:port, [v6]:port or unix:/path.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" ttl' -l 'ttl' -d 'Lapse after this long unless touched: 30s, 5m, 2h, 1h30m.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" session' -l 'session' -d 'Bind the route to this connection and hold it in the foreground until Ctrl-C.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" replace' -l 'replace' -d 'Take the key over from another tunnel.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add"' -l 'label' -d 'A label, key=value (repeatable).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add"' -l 'allow' -d 'Only clients in this address block may connect through a gateway: 10.0.0.0/8, 2001:db8::/32 (repeatable).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add"' -l 'deny' -d 'Clients in this address block may not, even when allowed (repeatable).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" owner' -l 'owner' -d 'Admins: record this owner instead of yourself.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl add" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl set" -eq 1' -fka '(__routerctl_custom_completion ---completion set -- positional@0 (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" target' -l 'target' -d 'Where the gateway forwards: host:port, [v6]:port or unix:/path.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" no-target' -l 'no-target' -d 'Take the target away (the tunnel is offline: gateways answer 502).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set"' -l 'label' -d 'A label k=v; repeat for several. The route\'s labels become exactly these.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" no-labels' -l 'no-labels' -d 'Remove every label.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set"' -l 'allow' -d 'An address block that may connect; repeat for several. Replaces the allow list.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" no-allow' -l 'no-allow' -d 'Empty the allow list (everyone not denied may connect).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set"' -l 'deny' -d 'An address block refused; repeat for several. Replaces the deny list.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" no-deny' -l 'no-deny' -d 'Empty the deny list.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl set" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl delete" -ge 1' -fka '(__routerctl_custom_completion ---completion delete -- positional@0 (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" ignore-missing' -l 'ignore-missing' -d 'Exit 0 when a key is not there (for idempotent scripts).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl delete" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl lookup" -eq 1' -fka '(__routerctl_custom_completion ---completion lookup -- positional@0 (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" sni' -l 'sni' -d 'Treat the argument as a TLS SNI name rather than a Host header value.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl lookup" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" prefix' -l 'prefix' -d 'Keys starting with this.' -rfka '(__routerctl_custom_completion ---completion list -- --prefix (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" tunnel' -l 'tunnel' -d 'Routes of this tunnel.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" owner' -l 'owner' -d 'Routes of this owner (admins).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" kind' -l 'kind' -d 'host, wildcard or tcp.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" label' -l 'label' -d 'Routes with this label (k=v).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" n namespace' -s 'n' -l 'namespace' -d 'Routes in this namespace (routerctl namespaces lists yours).' -rfka '(__routerctl_custom_completion ---completion list -- --namespace (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" limit' -l 'limit' -d 'At most this many routes.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" held' -l 'held' -d 'List the names held for their last owners instead of routes (routerd --db --hold-released): key, owner, and until when.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" from-revision' -l 'from-revision' -d 'Replay events from this revision (inclusive) first.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" instance' -l 'instance' -d 'The daemon instance --from-revision belongs to (from `ping -o json` or an earlier watch); a restarted daemon then answers compacted (status 70) instead of replaying another instance\'s revisions.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" prefix' -l 'prefix' -d 'Only keys starting with this.' -rfka '(__routerctl_custom_completion ---completion watch -- --prefix (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" tunnel' -l 'tunnel' -d 'Only routes of this tunnel.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" n namespace' -s 'n' -l 'namespace' -d 'Only changes in this namespace (routerctl namespaces lists yours).' -rfka '(__routerctl_custom_completion ---completion watch -- --namespace (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" count' -l 'count' -d 'Exit 0 after this many changes (the replay\'s included; the sync marker does not count): a script\'s way to wait for a change.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl watch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl touch" -eq 1' -fka '(__routerctl_custom_completion ---completion touch -- positional@0 (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" ttl' -l 'ttl' -d 'A new TTL: 30s, 5m, 2h, 1h30m.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl touch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl stats" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl namespaces" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl history" -eq 1' -fka '(__routerctl_custom_completion ---completion history -- positional@0 (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" owner' -l 'owner' -d 'Changes to this owner\'s routes (admins).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" tunnel' -l 'tunnel' -d 'Changes to this tunnel\'s routes.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" since' -l 'since' -d 'Changes in this last while (1h, 2d, …).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" limit' -l 'limit' -d 'At most this many changes (100 when not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl history" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_positional "routerctl dns" -eq 1' -fka '(__routerctl_custom_completion ---completion dns -- positional@0 (count (__routerctl_tokens -pc)) (__routerctl_tokens -tC))'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl dns" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" wait' -l 'wait' -d 'Keep retrying for this long.' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl ping" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl shell" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" socket' -l 'socket' -d 'The daemon\'s socket (default: $ROUTER_SOCKET, else /run/routerd/routerd.sock for root, else $XDG_RUNTIME_DIR/routerd.sock, else /tmp/routerd-UID/routerd.sock).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" o output' -s 'o' -l 'output' -d 'Output format: table, wide (more columns), json (the protocol\'s result; NDJSON for list and watch) or name (keys only).' -rfka 'table wide json name'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on success (errors still go to stderr).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" no-color' -l 'no-color' -d 'No colour, even on a terminal (NO_COLOR set in the environment does the same).'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" timeout' -l 'timeout' -d 'How long to wait for routerd to answer (watch waits for ever once started).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" url' -l 'url' -d 'Talk to routerd\'s HTTP API at this URL (http://HOST:PORT or https://…) instead of a socket (default: $ROUTER_URL when --socket is not given).' -rfka ''
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" token-file' -l 'token-file' -d 'With --url: read the bearer token from this file (default: $ROUTER_TOKEN).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" cacert' -l 'cacert' -d 'With an https:// --url: trust the server certificates this PEM file holds (default: the system\'s trust store).' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" f file' -s 'f' -l 'file' -d 'Read commands from this file instead of stdin.' -rF
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" atomic' -l 'atomic' -d 'Apply every line or none, as one protocol batch request.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" version' -l 'version' -d 'Show the version.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl batch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'routerctl' -n '__routerctl_should_offer_completions_for_flags_or_options "routerctl help" version' -l 'version' -d 'Show the version.'
