/// The state file's schema, versioned in SQLite's `user_version`: version N is what the
/// statements of migrations 1…N make of an empty file. A file of a higher version than
/// `current` was written by a newer routerd and is refused, never rewritten.
enum StateSchema {
    /// The version this routerd writes.
    static let current = 2

    /// The statements that bring a file from version `index` to `index + 1`.
    static let migrations: [String] = [
        // 1: the table, its revision and identity, and the change history.
        """
        CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE routes (key TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE history (
            revision INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            owner TEXT NOT NULL,
            tunnel TEXT NOT NULL,
            principal TEXT NOT NULL,
            peer TEXT NOT NULL,
            before TEXT,
            after TEXT
        );
        CREATE INDEX history_by_key ON history (key, revision);
        CREATE INDEX history_by_owner ON history (owner, revision);
        CREATE INDEX history_by_tunnel ON history (tunnel, revision);
        """,
        // 2: resume tokens of closed sessions that hold routes, good across a restart; names
        // held for the owners of routes that lapsed (--hold-released).
        """
        CREATE TABLE tickets (token TEXT PRIMARY KEY, session INTEGER NOT NULL, uid INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE holds (key TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL) WITHOUT ROWID;
        """,
    ]
}
