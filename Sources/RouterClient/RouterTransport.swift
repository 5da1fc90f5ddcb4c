/// What carries protocol v1 lines between a `RouterClient` and routerd: the Unix socket
/// (`SocketTransport`, where lines go as they are) or another front end that translates each
/// request line into its own terms and each answer back into reply lines (the HTTP API's, in
/// the RouterHTTPClient module).
///
/// A transport is used from one thread at a time, like the client that owns it. Replies come
/// back in the order the requests were written.
public protocol RouterTransport: AnyObject {
    /// Where it connects, as a person would name it in a message (a socket path or a URL).
    var address: String { get }
    /// Whether the daemon greets first (a `hello` line before any request). Otherwise the
    /// client asks with a `hello` request when it first needs the greeting.
    var greetsFirst: Bool { get }
    /// Sends complete request lines, each ending in `\n`.
    func write(_ bytes: [UInt8]) throws(ClientError)
    /// The next reply line without its line end. A line already here is returned at once;
    /// otherwise it waits up to `timeout` (nil: for ever), then throws `timedOut(after:)`;
    /// checks `isInterrupted` at least every quarter second and throws `interrupted` when it
    /// returns true.
    func readLine(timeout: Duration?, isInterrupted: () -> Bool) throws(ClientError) -> String
    /// False once the other side has gone, checked without waiting.
    var isAlive: Bool { get }
    /// Whether a whole reply line is already here (so `readLine` will not wait).
    var hasBufferedLine: Bool { get }
    /// Ends the connection.
    func close()
}
