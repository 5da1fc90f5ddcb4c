import RouterRedis

/// The Lua scripts the store runs in Redis. Each runs atomically: nothing else happens in
/// Redis between its first and its last command.
enum RedisScripts {
    /// Start-up: the store's id (made now if the table was never written) and its revision.
    /// KEYS: id, revision. ARGV: a fresh id. Returns `{id, revision}`.
    static let open = RedisScript("""
        local id = redis.call('GET', KEYS[1])
        if not id then
          id = ARGV[1]
          redis.call('SET', KEYS[1], id)
        end
        return {id, redis.call('GET', KEYS[2]) or '0'}
        """)

    /// Commits a drafted change, but only onto the table it was drafted against: the store is
    /// still the one the daemon loaded (same id) and still at the draft's base revision, and —
    /// for a draft made on a change of this daemon's still under way — that change was the
    /// last one committed (its token is in `last`; a revision alone could have been reached by
    /// another daemon's change of the same size). Then the routes hash gets each key's last
    /// state (a few multi-field `HSET`s and `HDEL`s), the log its entries (`RedisLogText`, one
    /// `XADD` each, the stream id the revision of the entry's last change), the revision counter
    /// moves past the last change, and this change's token becomes `last`. Every rule of the
    /// change was checked by the draft against the table at that revision, so the compare
    /// makes the whole change atomic against every other daemon's: exactly one of two racing
    /// drafts commits, and the other is drafted again on the newer table. The log is trimmed
    /// once, of the entries that end more than the log length before the new revision (`MINID
    /// ~`: Redis trims whole nodes, so it keeps at least that many changes). The script does no
    /// work a change: the daemon hands it the hash's fields and the log's entries ready.
    ///
    /// KEYS: id, revision, routes, log, last. ARGV: store id, base revision, log length, this
    /// change's token, the token of the change it was drafted on ('' for none), the number S of
    /// routes to set, D of keys to delete, E of log entries; then S pairs (route key, stored
    /// route), D route keys, E pairs (how many changes the entry holds, its text).
    /// Returns `{1, revision}` committed; `{0, revision}` the base is stale; `{-1, 0}` the
    /// store is not the one loaded (flushed or replaced).
    static let commit = RedisScript("""
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, 0} end
        local rev = tonumber(redis.call('GET', KEYS[2]) or '0')
        if rev ~= tonumber(ARGV[2]) then return {0, rev} end
        if ARGV[5] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[5] then return {0, rev} end
        local i = 9
        local last = i + 2 * tonumber(ARGV[6]) - 1
        for j = i, last, 1000 do redis.call('HSET', KEYS[3], unpack(ARGV, j, math.min(j + 999, last))) end
        i = last + 1
        last = i + tonumber(ARGV[7]) - 1
        for j = i, last, 1000 do redis.call('HDEL', KEYS[3], unpack(ARGV, j, math.min(j + 999, last))) end
        i = last + 1
        for _ = 1, tonumber(ARGV[8]) do
          rev = rev + tonumber(ARGV[i])
          redis.call('XADD', KEYS[4], rev .. '-0', '\(RedisLogText.field)', ARGV[i + 1])
          i = i + 2
        end
        redis.call('XTRIM', KEYS[4], 'MINID', '~', math.max(0, rev - tonumber(ARGV[3])) + 1)
        redis.call('SET', KEYS[2], rev)
        redis.call('SET', KEYS[5], ARGV[4])
        return {1, rev}
        """)

    /// Takes a resume ticket: KEYS: the ticket. ARGV: the peer's uid. Returns the session
    /// (and deletes the ticket: it is good once), nil when there is none, -1 when it is
    /// another user's (the ticket stays for its owner).
    static let claim = RedisScript("""
        local v = redis.call('GET', KEYS[1])
        if not v then return false end
        local sep = string.find(v, ' ')
        if string.sub(v, sep + 1) ~= ARGV[1] then return -1 end
        redis.call('DEL', KEYS[1])
        return string.sub(v, 1, sep - 1)
        """)

    /// Renews this daemon's lease and reads everyone's, forgetting leases that lapsed more
    /// than an hour ago (daemons long gone, whose session routes were expired then).
    /// KEYS: leases. ARGV: node, expiry (ms), now (ms). Returns the flat `{node, expiry, …}`.
    static let lease = RedisScript("""
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        local all = redis.call('HGETALL', KEYS[1])
        local kept = {}
        for i = 1, #all, 2 do
          if tonumber(all[i + 1]) < tonumber(ARGV[3]) - 3600000 then
            redis.call('HDEL', KEYS[1], all[i])
          else
            kept[#kept + 1] = all[i]
            kept[#kept + 1] = all[i + 1]
          end
        end
        return kept
        """)
}
