import Foundation
import RouterTestSupport
import Testing

/// A routerd binary (names under example.com, a short grace) with routerctl run against it.
final class Daemon {
    let routerd: RouterdProcess
    var directory: String { routerd.directory }
    var socket: String { routerd.socket }
    var process: ChildProcess { routerd.process }

    init(_ arguments: [String] = []) throws {
        routerd = try RouterdProcess(["--domain", "example.com", "--log-level", "error", "--grace", "300ms"] + arguments)
    }

    /// Runs routerctl against this daemon and waits for it.
    @discardableResult
    func run(_ arguments: [String], stdin: String = "", environment: [String: String] = [:], timeout: Double = 60) -> Finished {
        do {
            let child = try start(arguments, stdin: stdin, environment: environment)
            return child.wait(timeout: timeout)
        } catch {
            return Finished(status: -1, stdout: "", stderr: "\(error)")
        }
    }

    /// Starts routerctl against this daemon without waiting.
    func start(_ arguments: [String], stdin: String = "", environment: [String: String] = [:]) throws -> ChildProcess {
        var env = environment
        if env["ROUTER_SOCKET"] == nil { env["ROUTER_SOCKET"] = socket }
        return try ChildProcess(productsDirectory + "/routerctl", arguments, stdin: stdin, environment: env, directory: directory)
    }

    /// Stops the daemon; one that does not exit on SIGTERM fails the test.
    func stop() {
        do {
            try routerd.stop()
        } catch {
            Issue.record("\(error)")
        }
    }
}

/// Runs `body` against a fresh routerd and always stops it afterwards.
func withRouterd(_ arguments: [String] = [], _ body: (Daemon) throws -> Void) throws {
    let daemon = try Daemon(arguments)
    defer { daemon.stop() }
    try body(daemon)
}
