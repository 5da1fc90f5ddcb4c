#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import RouterClient
import RouterProtocol

struct Ping: RouterCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that routerd answers; with --wait, retry until it does.",
        usage: "routerctl ping [<options>] [--wait <duration>]",
        discussion: """
            For start-up scripts: `routerctl ping --wait 10s` returns 0 as soon as the daemon \
            answers, or 69 when it still does not after 10 seconds.

            EXAMPLES:
              routerctl ping
              routerd & routerctl ping --wait 10s -q && routerctl add foo --tunnel t1
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Keep retrying for this long.", valueName: "duration"))
    var wait: DurationArgument?

    func execute(in context: Context) throws(ClientError) -> Int32 {
        let deadline = wait.map { ContinuousClock.now + $0.value }
        while true {
            do {
                let started = ContinuousClock.now
                // In the shell, over the shell's connection (a line's own --socket is not used there).
                let client = context.inShell ? try context.connection() : try global.connect(timeout: global.timeout.value)
                try client.call("ping")
                let took = ContinuousClock.now - started
                let hello = try client.greeting
                guard !context.quiet else { return ExitStatus.ok }
                if context.format == .json {
                    context.json(.object([("server", .string(hello.server)), ("version", .string(hello.version)),
                                          ("instance", .string(hello.instance)), ("revision", .number(hello.revision))]))
                } else {
                    let ms = Double(took.components.attoseconds) / 1e15 + Double(took.components.seconds) * 1000
                    context.out("pong from \(hello.server) \(hello.version) at \(client.path) " +
                                "(instance \(hello.instance), revision \(hello.revision), \(Int(ms * 10) / 10 == 0 ? "<0.1" : String(Double(Int(ms * 10)) / 10)) ms)")
                }
                return ExitStatus.ok
            } catch {
                guard let deadline, ContinuousClock.now < deadline, ExitStatus.of(error) == ExitStatus.unavailable else { throw error }
                var ts = timespec(tv_sec: 0, tv_nsec: 100_000_000)
                nanosleep(&ts, nil)
            }
        }
    }
}
