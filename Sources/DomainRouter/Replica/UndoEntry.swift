/// One step of a draft's undo log: a key and its route before a change touched it (nil: the
/// key was free). Undoing runs the log backwards, so each key ends as it was before its first
/// change.
struct UndoEntry {
    var key: RouteKey
    var before: Route?
}
