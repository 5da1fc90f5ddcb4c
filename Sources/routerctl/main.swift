#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser

// No arguments: the shell on a terminal; usage and 64 for a script.
if CommandLine.arguments.count == 1 {
    if isatty(0) == 1 && isatty(1) == 1 {
        exit(Shell.runInteractive(options: try! GlobalOptions.parse([])))
    }
    Terminal.write(Routerctl.helpMessage() + "\n", to: 2)
    exit(ExitStatus.usage)
}
Routerctl.main(GlobalOptions.hoist(Array(CommandLine.arguments.dropFirst())))
