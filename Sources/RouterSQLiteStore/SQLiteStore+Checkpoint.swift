import Dispatch
import GRDB
import GRDBSQLite

/// Checkpoints: copying the write-ahead log back into the file. SQLite's own rule runs them
/// on the writer, in the commit that finds the log long, and every change queued behind that
/// commit waits for the copy and its sync. Here a second connection copies the log as it
/// grows, beside the writer; the writer checkpoints itself only once the log is far longer
/// (the checkpointer fell behind), so that the log stays bounded all the same.
extension SQLiteStore {
    /// Log bytes written since the last checkpoint that start one beside the writer.
    static let checkpointBytes = 8 << 20
    /// Log bytes past which the writer checkpoints in its own commit: a checkpoint beside a
    /// writer that never pauses copies most of the log, but only one the writer runs can finish
    /// it, so that the log starts over; by then little is left to copy.
    static let writerCheckpointBytes = 64 << 20

    /// Puts `logGrew` on the writer's connection in place of SQLite's automatic checkpoints.
    func watchLog() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        pool.writeWithoutTransaction { db in
            // The log is counted in pages (frames).
            let pageSize = max(512, (try? Int.fetchOne(db, sql: "PRAGMA page_size")) ?? 4096)
            state.withLock { s in
                s.checkpointFrames = Int32(Self.checkpointBytes / pageSize)
                s.writerCheckpointFrames = Int32(Self.writerCheckpointBytes / pageSize)
            }
            // The store outlives the hook: it closes the pool (and with it this connection)
            // before it goes.
            sqlite3_wal_hook(db.sqliteConnection, { context, connection, _, frames in
                Unmanaged<SQLiteStore>.fromOpaque(context!).takeUnretainedValue().logGrew(to: frames, on: connection)
                return SQLITE_OK
            }, context)
        }
    }

    /// After each commit, on the writer: `frames` is the log's length.
    private func logGrew(to frames: Int32, on connection: OpaquePointer?) {
        if frames >= state.withLock({ $0.writerCheckpointFrames }) {
            sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        let start = state.withLock { s -> Bool in
            if frames < s.checkpointedFrames { s.checkpointedFrames = 0 } // the log started over
            guard !s.checkpointing, !s.stopping, frames - s.checkpointedFrames >= s.checkpointFrames else { return false }
            s.checkpointing = true
            return true
        }
        guard start else { return }
        checkpoints.async {
            // Busy (the writer checkpointing itself) or failed: the next commit asks again.
            let copied = try? self.checkpointer.writeWithoutTransaction { try $0.checkpoint(.passive) }.checkpointedFrameCount
            self.state.withLock { s in
                s.checkpointing = false
                if let copied { s.checkpointedFrames = Int32(clamping: copied) }
            }
        }
    }
}
