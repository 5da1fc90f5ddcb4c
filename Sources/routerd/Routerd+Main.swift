import ArgumentParser
import ConfigFile
import DomainRouter
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// routerd's entry: the configuration file (`--config`) read before the flags are parsed, its
/// keys turned into flags that the command line's own override; and `--check-config`, which
/// only checks a file.
extension Routerd {
    /// EX_DATAERR (sysexits.h): the configuration file is wrong.
    static let configFileError: Int32 = 65

    static func main() async {
        runTasksOnEventLoops()
        let commandLine = Array(CommandLine.arguments.dropFirst())
        if let path = optionValue("check-config", in: commandLine) {
            Glibc.exit(checkConfig(path, commandLine: commandLine.filter { !$0.hasPrefix("--check-config") && $0 != path }))
        }
        var arguments = commandLine
        var file: ConfigFile?
        if let path = optionValue("config", in: commandLine) {
            do {
                file = try ConfigFile.read(path, keys: configKeys)
                _ = try namespaces(in: file!)
                arguments = file!.arguments(overriddenBy: commandLine) + commandLine
            } catch {
                fputs(error.problems.map { "routerd: \($0)\n" }.joined(), stderr)
                Glibc.exit(configFileError)
            }
        }
        do {
            var command = try parseAsRoot(arguments)
            if let routerd = command as? Routerd {
                try await routerd.run()
            } else {
                try command.run()
            }
        } catch {
            // A rule between flags broken by a key of the file names the file's line.
            if let file, exitCode(for: error) == .validationFailure, let line = file.line(forFlagIn: message(for: error)) {
                fputs("routerd: \(ConfigProblem(path: file.path, line: line, message: message(for: error)))\n", stderr)
                Glibc.exit(configFileError)
            }
            exit(withError: error)
        }
    }

    /// `--check-config PATH`: every problem of the file, one a line with its line number, exit 65;
    /// or "PATH: OK", exit 0. The file is checked as routerd would start with it (with the rest
    /// of `commandLine`): each value, then the rules between flags.
    static func checkConfig(_ path: String, commandLine: [String]) -> Int32 {
        let file: ConfigFile
        let policy: NamespacePolicy?
        do {
            file = try ConfigFile.read(path, keys: configKeys)
            policy = try namespaces(in: file)
        } catch {
            fputs(error.problems.map { "\($0)\n" }.joined(), stderr)
            return configFileError
        }
        do {
            _ = try parseAsRoot(file.arguments(overriddenBy: commandLine) + commandLine)
        } catch {
            let problem = ConfigProblem(path: path, line: file.line(forFlagIn: message(for: error)), message: message(for: error))
            fputs("\(problem)\n", stderr)
            return configFileError
        }
        let namespaces = policy.map { ", \($0.namespaces.count) namespace\($0.namespaces.count == 1 ? "" : "s")" } ?? ""
        print("\(path): OK (\(file.entries.count) key\(file.entries.count == 1 ? "" : "s")\(namespaces))")
        return 0
    }

    /// The value of `--NAME VALUE` or `--NAME=VALUE` in `arguments` (the last one given).
    static func optionValue(_ name: String, in arguments: [String]) -> String? {
        var value: String?
        var i = 0
        while i < arguments.count {
            let argument = arguments[i]
            if argument == "--" { break }
            if argument == "--\(name)", i + 1 < arguments.count {
                value = arguments[i + 1]
                i += 1
            } else if argument.hasPrefix("--\(name)=") {
                value = String(argument.dropFirst(name.count + 3))
            }
            i += 1
        }
        return value
    }
}
