/// The Lua script that decides a global limit inside Redis: one atomic call takes up to `want`
/// tokens (at least `need`, else none) from the bucket of one (rule, limit, key).
///
/// Why a script: read-refill-take-write must be one atomic step, or two kernels that read the same
/// level both spend it. Redis runs a script alone (no other command interleaves), so the bucket is
/// exact whatever the number of kernels. The clock is the server's `TIME`, never a kernel's, so
/// kernels with skewed clocks agree; a server clock that steps back counts as no time passing.
///
/// State per bucket: a hash `{l = level in units, t = microseconds of the last refill, u = units per
/// token}` that `PEXPIRE` drops after ``FlowGlobalBucket/idleExpiryMillis`` untouched (a dropped
/// bucket comes back full, which it would be by then anyway). A bucket written under another rate
/// (a reload rolling through the fleet) keeps its token count: the level is rescaled to the new
/// unit, rounded down. Numbers are written with `%d` (Lua's default `tostring` keeps 14 digits only).
///
/// Reply: `{granted, waitMicros, left}` — tokens granted (0 or `need…want`), microseconds until
/// `need` tokens will be there when none were granted (0 otherwise), whole tokens left.
public enum FlowGlobalScript {
    public static let source = """
    -- Herz flow control: the token bucket of one global limit key (docs/flow-control.md, section 9).
    -- KEYS[1] bucket hash {l = level (units), t = last refill (server µs), u = units per token}
    -- ARGV: units per token, units gained per µs, capacity (units), want, need (1..want), idle ms
    if redis.replicate_commands then redis.replicate_commands() end
    local u, g, c = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
    local want, need, idle = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
    local clock = redis.call('TIME')
    local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
    local s = redis.call('HMGET', KEYS[1], 'l', 't', 'u')
    local level, at, su = tonumber(s[1]), tonumber(s[2]), tonumber(s[3])
    if level == nil or at == nil or su == nil or su <= 0 then
      level, at = c, now
    elseif su ~= u then
      level = math.floor(level / su * u)
    end
    if now > at then
      local missing = c - level
      if missing > 0 then
        if now - at >= math.ceil(missing / g) then level = c else level = level + (now - at) * g end
      end
      at = now
    end
    if level > c then level = c end
    local granted = math.floor(level / u)
    if granted > want then granted = want end
    local wait = 0
    if granted < need then
      granted = 0
      wait = math.ceil((need * u - level) / g)
    end
    level = level - granted * u
    redis.call('HSET', KEYS[1], 'l', string.format('%d', level), 't', string.format('%d', at), 'u', string.format('%d', u))
    redis.call('PEXPIRE', KEYS[1], idle)
    return {granted, wait, math.floor(level / u)}
    """

    /// The script's `ARGV` for taking `want` tokens (at least `need`) from `bucket`.
    public static func arguments(_ bucket: FlowGlobalBucket, want: Int, need: Int) -> [String] {
        let need = max(1, need)
        return [String(bucket.unitsPerToken), String(bucket.gainPerMicro), String(bucket.capacity),
                String(max(need, want)), String(need), String(bucket.idleExpiryMillis)]
    }
}
