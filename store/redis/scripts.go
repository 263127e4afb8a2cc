package redis

import goredis "github.com/redis/go-redis/v9"

// Lua scripts. Times are Unix microseconds passed as decimal strings and
// stored as given (never re-printed from a Lua number). Every script
// touches the keys of one Cluster slot: a single key, or keys sharing the
// hash tag {familyID}. A record is live while its field "e" is greater
// than ARGV[1], the injected clock's now.

// createScript stores a record unless a live one exists; a TTL ≤ 0 only
// clears a stale record.
// KEYS[1] record. ARGV: now, json, expires, ttl ms, extra field/value pairs.
// Returns 0 when a live record exists, else 1.
var createScript = goredis.NewScript(`
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(e) > tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
if tonumber(ARGV[4]) <= 0 then return 1 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// touchScript replaces a session's JSON if it is still the one the caller
// read (a compare-and-set: TouchSession's one-write path).
// KEYS[1] session. ARGV: now, json as read, new json, new expires, ttl ms.
// Returns 0, changing nothing, when the session is gone, expired or
// changed; else 1.
var touchScript = goredis.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'v', 'e')
if not c[1] or c[1] ~= ARGV[2] or not c[2] or tonumber(c[2]) <= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[3], 'e', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

// deleteScript deletes a record and returns its JSON (nil when absent).
var deleteScript = goredis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'v')
redis.call('DEL', KEYS[1])
return v
`)

// indexAddScript adds an ID to a per-user set and makes the set live at
// least ttl ms. KEYS[1] set. ARGV: member, ttl ms.
var indexAddScript = goredis.NewScript(`
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
`)

// consumeScript redeems a code. KEYS[1] code. ARGV: now, now stamp,
// operation ID (random per ConsumeAuthCode call).
// Returns nil when absent, else {json, consumed stamp, 1 if used before}.
// The operation ID is stored with the redemption, so that the client
// library's automatic retry of a call whose reply was lost finds its own
// first run and succeeds, rather than seeing a replay.
var consumeScript = goredis.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'v', 'e', 'used', 'op')
if not c[1] or tonumber(c[2]) <= tonumber(ARGV[1]) then return false end
if c[3] then
  if c[4] == ARGV[3] then return {c[1], c[3], 0} end
  return {c[1], c[3], 1}
end
redis.call('HSET', KEYS[1], 'used', ARGV[2], 'op', ARGV[3])
return {c[1], ARGV[2], 0}
`)

// extendFamily makes the family record outlive a token expiring at e;
// a stale family record is dropped first.
const extendFamily = `
local function extend_family(k, now, e, ttl)
  local fe = redis.call('HGET', k, 'e')
  if fe and tonumber(fe) <= now then
    redis.call('DEL', k)
    fe = false
  end
  if not fe or tonumber(fe) < tonumber(e) then
    redis.call('HSET', k, 'e', e)
    redis.call('PEXPIRE', k, ttl)
  end
end
`

// createTokenScript is createScript for a refresh token, also extending
// its family. KEYS[1] token, KEYS[2] family (same hash tag).
var createTokenScript = goredis.NewScript(extendFamily + `
local now = tonumber(ARGV[1])
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(e) > now then return 0 end
redis.call('DEL', KEYS[1])
if tonumber(ARGV[4]) <= 0 then return 1 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'e', ARGV[3], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
extend_family(KEYS[2], now, ARGV[3], ARGV[4])
return 1
`)

// rotateScript implements RotateRefreshToken.
// KEYS: old token, next token, family, successor of old (KEYS[1] when
// unknown) — all with the hash tag {familyID}.
// ARGV: now, now stamp, next ID, next json, next expires, next ttl ms,
// grace µs, successor ID the caller assumed ("" when unknown).
// Returns nil when old is absent, {'exists'} when next's ID is taken,
// {'retry', successor ID} when the caller must pass the successor's key,
// else {status, old json, rotated stamp, replaced by} with status 'ok',
// 'revoked' or 'reused' (the family has just been revoked).
var rotateScript = goredis.NewScript(extendFamily + `
local now = tonumber(ARGV[1])
local old = redis.call('HMGET', KEYS[1], 'v', 'e', 'rot', 'rotus', 'by')
if not old[1] or tonumber(old[2]) <= now then return false end
local function reply(status)
  return {status, old[1], old[3] or '', old[5] or ''}
end
local fam = redis.call('HMGET', KEYS[3], 'e', 'rev')
if fam[1] and tonumber(fam[1]) > now and fam[2] == '1' then return reply('revoked') end
-- A retry of this very call (the client library re-sent it after losing
-- the reply): old already names next, whose ID is this call's own random
-- value, so report the first run's result instead of a reuse.
if old[3] and old[5] == ARGV[3] then return {'ok', old[1], old[3], old[5]} end
local function taken()
  local e = redis.call('HGET', KEYS[2], 'e')
  return e and tonumber(e) > now
end
local function put_next()
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'v', ARGV[4], 'e', ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
  extend_family(KEYS[3], now, ARGV[5], ARGV[6])
end
if not old[3] then
  if taken() then return {'exists'} end
  redis.call('HSET', KEYS[1], 'rot', ARGV[2], 'rotus', ARGV[1], 'by', ARGV[3])
  put_next()
  return {'ok', old[1], ARGV[2], ARGV[3]}
end
-- No grace (0, the default) means no retry at all, whatever the sign of
-- now - rotated: a caller's clock may read earlier than the rotation it
-- lost to (read first, run second; or another replica's clock).
local grace = tonumber(ARGV[7])
if grace > 0 and now - tonumber(old[4]) < grace then
  if old[5] ~= ARGV[8] then return {'retry', old[5]} end
  local succ = redis.call('HMGET', KEYS[4], 'e', 'rot')
  if succ[1] and tonumber(succ[1]) > now and not succ[2] then
    if taken() then return {'exists'} end
    redis.call('DEL', KEYS[4])
    redis.call('HSET', KEYS[1], 'by', ARGV[3])
    put_next()
    return {'ok', old[1], old[3], ARGV[3]}
  end
end
-- Reuse of a rotated token: revoke the family at least as long as old.
extend_family(KEYS[3], now, old[2], math.ceil((tonumber(old[2]) - now) / 1000))
redis.call('HSET', KEYS[3], 'rev', '1')
return reply('reused')
`)

// revokeFamilyScript revokes a family until ARGV[2] or its last token's
// expiry, whichever is later. KEYS[1] family. ARGV: now, expires, ttl ms.
var revokeFamilyScript = goredis.NewScript(extendFamily + `
local now = tonumber(ARGV[1])
if tonumber(ARGV[3]) > 0 then
  extend_family(KEYS[1], now, ARGV[2], ARGV[3])
end
local fe = redis.call('HGET', KEYS[1], 'e')
if not fe or tonumber(fe) <= now then return 0 end
redis.call('HSET', KEYS[1], 'rev', '1')
return 1
`)

// hitScript counts a hit in the current window or opens one.
// KEYS[1] counter. ARGV: now, window end, window ms. Returns {count, end}.
var hitScript = goredis.NewScript(`
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(e) > tonumber(ARGV[1]) then
  return {redis.call('HINCRBY', KEYS[1], 'c', 1), e}
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'c', 1, 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, ARGV[2]}
`)

// totpScript makes a step the account's last used TOTP step if it is
// above the recorded one (compare-and-set, the record judged live with
// the injected clock). KEYS[1] the account's record. ARGV: now, step,
// expires, ttl ms. Returns 0 when the recorded step is the step or later,
// else 1.
var totpScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'step', 'exp')
if cur[1] and cur[2] and tonumber(cur[2]) > tonumber(ARGV[1]) and tonumber(cur[1]) >= tonumber(ARGV[2]) then return 0 end
if tonumber(ARGV[4]) > 0 then
  redis.call('HSET', KEYS[1], 'step', ARGV[2], 'exp', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
`)
