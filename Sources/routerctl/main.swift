#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser

// Ctrl-C ends a one-shot command at once with 130, even inside a write blocked on a full
// pipe and even when the parent started us with SIGINT ignored (a background job of a script).
// Commands that Ctrl-C ends normally (watch, add --session, the shell) catch it themselves.
signal(SIGINT) { _ in _exit(130) }
var interruptOnly = sigset_t()
sigemptyset(&interruptOnly)
sigaddset(&interruptOnly, SIGINT)
sigprocmask(SIG_UNBLOCK, &interruptOnly, nil)

// No subcommand (no arguments, or only global options such as `--socket PATH`, as with
// `redis-cli -s PATH`): the shell on a terminal; usage and 64 for a script.
let arguments = Array(CommandLine.arguments.dropFirst())
if GlobalOptions.isOnlyGlobalOptions(arguments) {
    let options: GlobalOptions
    do {
        options = try GlobalOptions.parse(arguments)
    } catch {
        Routerctl.exit(withError: error)
    }
    if isatty(0) == 1 && isatty(1) == 1 {
        exit(Shell.runInteractive(options: options))
    }
    Terminal.write(Routerctl.helpMessage() + "\n", to: 2)
    exit(ExitStatus.usage)
}
// `help NAME` for a name that is no subcommand is a usage error, not the overall help and 0.
if arguments.first == "help", arguments.count > 1, !arguments[1].hasPrefix("-") {
    let names = Routerctl.configuration.subcommands.map { $0._commandName }
    if !names.contains(arguments[1]) {
        Terminal.write("Error: no subcommand '\(arguments[1])'; the subcommands are \(names.joined(separator: ", "))\n", to: 2)
        exit(ExitStatus.usage)
    }
}
Routerctl.main(GlobalOptions.hoist(arguments))
