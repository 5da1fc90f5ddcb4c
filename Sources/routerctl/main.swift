#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser

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
Routerctl.main(GlobalOptions.hoist(arguments))
