import Logging
import ServiceLifecycle

/// Tells systemd how the daemon stands, as a `Service` run last in the daemon's group: `READY=1`
/// once `ready` returns true (the daemon answers), `WATCHDOG=1` every half watchdog interval
/// while it runs, and `STOPPING=1` as soon as graceful shutdown begins (the group shuts its
/// services down last-first, so this one hears it first).
public struct SystemdNotifyService: Service {
    let notifier: SystemdNotifier
    let ready: @Sendable () async -> Bool
    let status: String
    let logger: Logger

    /// `ready` waits until the daemon answers (false: it never will, and nothing is sent);
    /// `status` is the line `systemctl status` shows once it does.
    public init(notifier: SystemdNotifier, status: String, logger: Logger, ready: @escaping @Sendable () async -> Bool) {
        self.notifier = notifier
        self.ready = ready
        self.status = status
        self.logger = logger
    }

    public func run() async {
        await withGracefulShutdownHandler {
            guard await ready() else { return }
            notifier.ready(status: status)
            logger.debug("told systemd READY=1", metadata: ["notify_socket": "\(notifier.socket)"])
            guard let interval = notifier.watchdogInterval else {
                // Nothing more to say until shutdown.
                try? await gracefulShutdown()
                return
            }
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                notifier.watchdog()
                try? await Task.sleep(for: interval)
            }
        } onGracefulShutdown: {
            notifier.stopping()
        }
    }
}
