import DomainRouter
import RouterServer

/// The settings routerd's flags make, typed for the parts they configure.
extension Routerd {
    /// The socket server's settings and the table's, from the flags.
    func serverConfiguration() throws(StartError) -> ServerConfiguration {
        var table = RouteTableConfiguration(baseDomains: domains.isEmpty ? ["localhost"] : domains)
        table.reservedLabels = Set(reserved.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty })
        table.randomLength = randomLength
        table.tcpPorts = tcpPorts.ports
        do {
            table.allowedTargets = try allowTargets.map { (cidr: String) throws(RouteError) in try CIDR(cidr) }
        } catch {
            throw StartError("--allow-target: \(error)")
        }
        var configuration = ServerConfiguration(
            socketPath: socket,
            socketMode: socketMode.mode,
            socketGroup: socketGroup,
            adminGroup: adminGroup,
            maximumLineLength: maxLine,
            maximumConnections: maxConnections,
            grace: grace.duration,
            watcherBuffer: watcherBuffer,
            watcherBufferBytes: watcherBufferBytes.bytes,
            table: table,
            threads: threads)
        configuration.auditChanges = auditLog == .changes
        return configuration
    }
}
