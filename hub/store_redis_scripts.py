"""The Lua side of the Redis store: every multi-key write is one script, so it is atomic.

Conventions shared by all scripts:

- ``KEYS[1]`` names this call (``P op:<random>``): a write remembers there, for a couple of
  minutes, that it happened, so redis-py may resend it after a dropped connection without
  applying it twice (the reply to the first attempt may have been lost, not the write).
- ``ARGV[1]`` is the key prefix (``fd:{fd}:``). Every key shares the hash tag ``{fd}``, so
  they all live on one slot, which a Redis Cluster accepts (see docs/architecture.md).
- Every script is handed every key it touches in ``KEYS`` (after the call's own). A key
  that depends on what the script reads (the customer an identity names, their open
  conversations, a conversation's customer, the conversation a message continues, the
  delivery that heads a lane after a receipt) is the caller's guess
  (`hub.store_redis_keys`), which the script checks before touching it: a wrong guess
  costs a read or a second call, never an undeclared key. Listings are no scripts: the
  caller reads the ids, then the records they name.
- User data never passes through cjson: events, customers and deliveries arrive as JSON
  strings built in Python and are stored as they are. An event is stored *without* its
  seq and conversation id (the seq is its position in the list, 1-based), so a script can
  append it without editing it.
- Times arrive as Python ``repr(float)`` strings and are stored unchanged, so they read
  back bit for bit.

Layout (``P`` = prefix, ``fd:{fd}:``; `hub.migrations_redis` moved the untagged layout here):

    P dedupe:{channel}             hash  message_id → "conversation_id seq op-key"
    P identity:{identity}          str   customer id
    P customer:{id}                str   customer JSON
    P customer:{id}:conversations  zset  (lex) every conversation of the customer
    P customer:{id}:open           zset  (lex) the customer's unresolved conversations
    P customer:{id}:open:{key}     zset  (lex) … of them, those opened with thread key `key`
    P customers                    zset  (lex) every customer id
    P conv:{id}                    hash  id customer_id status channel address thread_hint
                                         priority created_at updated_at last_seq
                                         handled_seq inbound_seq thread_key state(JSON)
    P conv:{id}:events             list  event JSON {"type","at","data"}; seq = index + 1
    P conversations                zset  (lex) every conversation id
    P conversations:{status}       zset  (lex) conversation ids by status
    P pending                      zset  (lex) conversations with inbound_seq > handled_seq
    P delivery:{id}                hash  data(JSON) seq conv next(its due time) parts(JSON)
    P conv:{id}:outbox             zset  the conversation's outstanding (unparked) delivery
                                         ids by seq; the first is its head
    P outbox                       zset  each conversation's head only, due at score
                                         (next attempt, or lease expiry while claimed)
    P dead                         zset  (lex) parked delivery ids
    P lock:conv:{id}               str   lease lock: "fence token"
    P lock:conv:{id}:fence         str   the conversation's last fencing token (INCR)
    P op:{random}                  str   a write's result, kept 2 minutes for its retries

Identity (see `hub.identity`):

    P customer:{id}:merges         set   merge ids whose snapshots hold this person's data
    P customer:{id}:audit          list  audit entry JSON, oldest first
    P merge:{id}                   str   merge record JSON (both records before the merge)
    P challenge:{customer id}      hash  data(JSON) expires_at attempts

Rate-limit counters (`count_hit`, never touched by a script) have a tag of their own per
key, `fd:{fd:hits:<key>}:<window start>`; the search index has its own too
(`hub.search_redis`).

Identity writes that depend on user data (a merge, an unmerge, an erasure, a profile
update) are read and built in Python and applied by `WRITE_IF`, which first checks that
nothing they were built from has changed (the caller retries if it has).
"""

from __future__ import annotations

# How often a caller rebuilds and resends a write whose script refused it because what the
# write was built from changed meanwhile (`REDRIVE`, `WRITE_IF`, the outbox's head guess).
# Generous: a merge is built from several round trips of reads, so while the customer's
# conversations change without pause it is refused many times in a row (up to 38 under
# bench/contention.py's loop; 3-6 with the changes a tenth of a second apart).
CAS_ATTEMPTS = 100
# The same for the calls of a message's turn, which are short to rebuild: storing it
# (`RECORD_INBOUND` with a corrected guess), committing its turn (`COMMIT_TURN` on a fresh
# read), and looking up its sender (`find_customer`, again when a merge moved the identity).
# Measured by bench/contention.py (docs/benchmarks.md): while other processes merged and
# unmerged the senders' customers and opened and resolved their conversations as fast as
# they could, a message took at most 9 calls (p99 3; 3 would have refused up to 0.7 % of
# them), a commit and a look-up at most 2; with the changes a second apart, 2. A retry was
# refused less often than a first call (it follows the change it corrects at once), so it
# is made at once, without a backoff. Well above the worst seen: a customer's message is
# not refused for churn short of such a loop, and an endless change still ends, in
# `Contention` (HTTP 503, Retry-After), after 16 quick calls.
TURN_PATH_ATTEMPTS = 16

# Appends ARGV[from..to] (event JSON strings) to a conversation; returns the last seq.
_COMMON = """
local P = ARGV[1]
local OP = KEYS[1]
local function remember(result)
  redis.call('SET', OP, result, 'EX', 120)
end
local function append(conv_key, now, from, to)
  local seq = tonumber(redis.call('HGET', conv_key, 'last_seq'))
  for i = from, to do
    redis.call('RPUSH', conv_key .. ':events', ARGV[i])
    seq = seq + 1
  end
  redis.call('HSET', conv_key, 'last_seq', seq, 'updated_at', now)
  return seq
end
-- Keeps "the outbox index holds each conversation's head and nothing else" after its
-- lane changed: the second of the lane leaves the index (a redriven reply may have gone
-- in front of it) and the head joins it, due at its own `next` (a new head: at once).
-- The head's hash is read only when it is not in the index yet: `unknown_head` has
-- checked that the caller declared it.
local function promote(lane_key, outbox_key, now)
  local lane = redis.call('ZRANGE', lane_key, 0, 1)
  if lane[2] then redis.call('ZREM', outbox_key, lane[2]) end
  local head = lane[1]
  if head and not redis.call('ZSCORE', outbox_key, head) then
    local due = redis.call('HGET', P .. 'delivery:' .. head, 'next') or now
    redis.call('ZADD', outbox_key, due, head)
  end
end
-- The head of a lane once `id` has left it (seq nil), or sits in it at `seq` (a retry, a
-- redrive): seqs are unique in a conversation, so the lowest score heads it.
local function head_after(lane_key, id, seq)
  local first = redis.call('ZRANGE', lane_key, 0, 1, 'WITHSCORES')
  local head, score = first[1], first[2]
  if head == id then head, score = first[3], first[4] end
  if seq and (not head or tonumber(seq) < tonumber(score)) then head = id end
  return head
end
-- Whether a script that changes a lane would read the hash of the delivery heading it
-- afterwards (`promote`: when it is not in the index yet; a claim: always) without the
-- caller having declared it (its guess, `guess_key`). The script then writes nothing and
-- returns {'head', id}: the caller calls again with that key (hub.store_redis_keys).
local function unknown_head(head, id, guess_key, outbox_key, claiming)
  if not head or head == id or P .. 'delivery:' .. head == guess_key then return false end
  return claiming or not redis.call('ZSCORE', outbox_key, head)
end
-- The lane's head, leased until `lease_until`, if it is due: {data, seq, parts}; else {};
-- {'head', id} (nothing written) when its hash is not `guess_key`.
local function claim_head(lane_key, outbox_key, now, lease_until, guess_key)
  local head = redis.call('ZRANGE', lane_key, 0, 0)[1]
  if not head then return {} end
  local due = redis.call('ZSCORE', outbox_key, head)
  if not due or tonumber(due) > tonumber(now) then return {} end
  local delivery_key = P .. 'delivery:' .. head
  if delivery_key ~= guess_key then return {'head', head} end
  redis.call('ZADD', outbox_key, lease_until, head)
  local d = redis.call('HMGET', delivery_key, 'data', 'seq', 'parts')
  return {d[1], d[2], d[3] or '[]'}
end
"""

# Lease lock: `take_lease(lock_key, token, ttl_ms)`. The lock holds "fence token", its
# fencing counter is `lock_key:fence`. Taking it is SET NX PX with the next fence, except
# that finding our own token counts as success: a resent call whose first reply was lost
# must not wait a whole ttl for itself. → the fence, or 0 when someone else holds it.
_LEASE = """
local function take_lease(lock_key, token, ttl_ms)
  local holder = redis.call('GET', lock_key)
  if holder then
    local sep = string.find(holder, ' ', 1, true)
    if sep and string.sub(holder, sep + 1) == token then
      return tonumber(string.sub(holder, 1, sep - 1))
    end
    return 0
  end
  local fence = redis.call('INCR', lock_key .. ':fence')
  redis.call('SET', lock_key, fence .. ' ' .. token, 'PX', ttl_ms)
  return fence
end
"""

# KEYS: op, dedupe:{channel}, identity:{identity}, then customer:{c}, its :conversations,
#       :open, :open:{thread key} and :open: (no thread key) for the customer `c` the caller
#       guesses the identity names (ARGV[19]; '' none: the customer it would create,
#       ARGV[5]), customers, conversations, conversations:bot, pending, then hash, events,
#       lock, fence of the conversation it would open (new_conversation_id), then the same
#       four of each conversation the caller guesses the message may go to (the one the
#       sender's last message went to, the guessed customer's open ones).
# ARGV: P channel message_id identity new_customer_id new_customer_json new_conversation_id
#       now sender thread_hint opened_event_json inbound_event_json thread_key starts_turn(1/0)
#       continuity_window_seconds|'' lease_token|'' lease_ttl_ms limit guessed_customer|''
#       gone_customer|'' (a customer id the identity may still name whose record is gone)
# → {duplicate(0/1), seq, customer_json, event_json|false, conversation HGETALL, fence,
#    events, the customer's open conversation ids on the thread key, … without one}
#   | {'retry', customer found, conversation found, open ids on the thread key, … without
#      one, gone(0/1)}: a guess was wrong, nothing was written (see below).
# The script touches declared keys only (issue 15). Before any write it checks the guesses:
# the identity names the guessed customer (else {'retry', that customer}: the caller reads
# their open sets and calls again); that customer's record exists (else gone = 1: the caller
# declares a new customer); every conversation in their open sets is declared (else
# {'retry', customer, '', the open sets as found}); a duplicate's conversation and customer
# are declared (else {'retry', its customer or '', its id}).
# With a lease token, a message that starts a turn (not a duplicate) also takes the
# conversation's turn lease when nobody holds it, for the caller to run the turn: `fence`
# is then its fencing token and `events` the turn context's events (at most `limit` after
# handled_seq, read under the lease like `TURN_LEASE`'s); else fence 0 and no events.
RECORD_INBOUND = (
    _COMMON
    + _LEASE
    + """
local dedupe_key, identity_key, customer_key = KEYS[2], KEYS[3], KEYS[4]
local thread_open_key, plain_open_key = KEYS[7], KEYS[8]
-- Each declared conversation's hash key → its place in KEYS (then events, lock, fence).
local declared = {}
for at = 13, #KEYS, 4 do declared[KEYS[at]] = at end

local function lease_turn(conv_id)
  if ARGV[16] == '' or ARGV[14] ~= '1' then return {0, {}} end
  local at = declared[P .. 'conv:' .. conv_id]
  local fence = take_lease(KEYS[at + 2], ARGV[16], ARGV[17])
  if fence == 0 then return {0, {}} end
  local handled = tonumber(redis.call('HGET', KEYS[at], 'handled_seq'))
  return {fence, redis.call('LRANGE', KEYS[at + 1], handled, handled + tonumber(ARGV[18]) - 1)}
end
-- The customer's open conversations (those without a thread key only matter for rule 2).
local function open_sets()
  local on_thread = redis.call('ZRANGE', thread_open_key, 0, -1)
  if ARGV[13] == '' then return on_thread, on_thread end
  return on_thread, redis.call('ZRANGE', plain_open_key, 0, -1)
end

local seen = redis.call('HGET', dedupe_key, ARGV[3])
if seen then
  local sep = string.find(seen, ' ', 1, true)
  local sep2 = string.find(seen, ' ', sep + 1, true)
  local conv_id = string.sub(seen, 1, sep - 1)
  local seq = tonumber(string.sub(seen, sep + 1, sep2 - 1))
  -- Our own write, resent after a lost reply, is not a duplicate.
  local duplicate = 1
  if string.sub(seen, sep2 + 1) == OP then duplicate = 0 end
  local conv_key = P .. 'conv:' .. conv_id
  if not declared[conv_key] then return {'retry', '', conv_id, {}, {}, 0} end
  local customer_id = redis.call('HGET', conv_key, 'customer_id')
  local customer = false
  if customer_id then
    if P .. 'customer:' .. customer_id ~= customer_key then
      return {'retry', customer_id, conv_id, {}, {}, 0}
    end
    customer = redis.call('GET', customer_key)
  end
  local event = redis.call('LINDEX', KEYS[declared[conv_key] + 1], seq - 1)
  -- A resent call takes the lease as the first did (finding our token counts as taking it).
  local turn = {0, {}}
  if duplicate == 0 then turn = lease_turn(conv_id) end
  local on_thread, plain = open_sets()
  return {duplicate, seq, customer, event, redis.call('HGETALL', conv_key), turn[1], turn[2],
    on_thread, plain}
end

local now = ARGV[8]
local found = redis.call('GET', identity_key) or ''
if found == ARGV[20] then found = '' end
if found ~= ARGV[19] then return {'retry', found, '', {}, {}, 0} end
local customer = false
if found ~= '' then
  customer = redis.call('GET', customer_key)
  if not customer then return {'retry', found, '', {}, {}, 1} end
end
local on_thread, plain = open_sets()
for _, ids in ipairs({on_thread, plain}) do
  for _, id in ipairs(ids) do
    if not declared[P .. 'conv:' .. id] then return {'retry', found, '', on_thread, plain, 0} end
  end
end
-- Every guess holds: from here on, writes.
local customer_id = found
if found == '' then
  customer_id = ARGV[5]
  customer = ARGV[6]
  redis.call('SET', customer_key, customer)
  redis.call('SET', identity_key, customer_id)
  redis.call('ZADD', KEYS[9], 0, customer_id)
end

-- Which open conversation this continues: the rule of `hub.ports.policy`, decided here
-- because it must be atomic with the write (tests/hub/test_port_continuation.py holds both
-- to one table of cases). Rule 1: the open conversation the customer moved last on this
-- thread (after a merge they may have two; ties: the greater id, last in ZRANGE); one
-- quiet for longer than the continuity window (ARGV[15], '' = none) is not continued
-- from another channel.
local conv_id = false
local moved_at = nil
for _, id in ipairs(on_thread) do
  local at = tonumber(redis.call('HGET', P .. 'conv:' .. id, 'updated_at'))
  if moved_at == nil or at >= moved_at then conv_id, moved_at = id, at end
end
if conv_id and ARGV[15] ~= '' then
  local last_channel = redis.call('HGET', P .. 'conv:' .. conv_id, 'channel')
  if last_channel ~= ARGV[2] and tonumber(now) - moved_at > tonumber(ARGV[15]) then
    conv_id = false
  end
end
-- Rule 2: a new thread (a new email) from a customer who has a recent open conversation on
-- a channel without threads (linked web chat, Telegram …) continues that conversation.
-- (Only those that moved at or after a stale rule-1 candidate are looked at: any older
-- one is stale too.)
if not conv_id and ARGV[13] ~= '' then
  for _, id in ipairs(plain) do
    local at = tonumber(redis.call('HGET', P .. 'conv:' .. id, 'updated_at'))
    if moved_at == nil or at >= moved_at then conv_id, moved_at = id, at end
  end
  if conv_id then
    -- Only a conversation opened on another channel (the api channel's own threads stay
    -- apart from its unthreaded messages); the event list starts with conversation.opened.
    local opened = cjson.decode(redis.call('LINDEX', P .. 'conv:' .. conv_id .. ':events', 0))
    local stale = ARGV[15] ~= '' and tonumber(now) - moved_at > tonumber(ARGV[15])
    if opened['data']['channel'] == ARGV[2] or stale then conv_id = false end
  end
end
local conv_key
if conv_id then
  conv_key = P .. 'conv:' .. conv_id
else
  conv_id = ARGV[7]
  conv_key = KEYS[13]
  redis.call('HSET', conv_key, 'id', conv_id, 'customer_id', customer_id, 'status', 'bot',
    'priority', 3, 'created_at', now, 'updated_at', now, 'last_seq', 0, 'handled_seq', 0,
    'inbound_seq', 0, 'thread_key', ARGV[13], 'state', '{}')
  redis.call('ZADD', KEYS[10], 0, conv_id)
  redis.call('ZADD', KEYS[11], 0, conv_id)
  redis.call('ZADD', KEYS[5], 0, conv_id)
  redis.call('ZADD', KEYS[6], 0, conv_id)
  redis.call('ZADD', thread_open_key, 0, conv_id)
  append(conv_key, now, 11, 11)
end
redis.call('HSET', conv_key, 'channel', ARGV[2], 'address', ARGV[9], 'thread_hint', ARGV[10])
local seq = append(conv_key, now, 12, 12)
if ARGV[14] == '1' then
  redis.call('HSET', conv_key, 'inbound_seq', seq)
  if seq > tonumber(redis.call('HGET', conv_key, 'handled_seq')) then
    redis.call('ZADD', KEYS[12], 0, conv_id)
  end
end
redis.call('HSET', dedupe_key, ARGV[3], conv_id .. ' ' .. seq .. ' ' .. OP)
local turn = lease_turn(conv_id)
on_thread, plain = open_sets()
return {0, seq, customer, false, redis.call('HGETALL', conv_key), turn[1], turn[2], on_thread,
  plain}
"""
)

# KEYS: op, conversation hash, events, lane, outbox, pending, lock, conversations:{status
#       now}, conversations:{new status} (or the same), customer:{id}:open and its
#       :{thread key} (the caller's guess, checked: {'conflict'} if wrong and the status
#       changes), then delivery:{id} of each delivery, then the hash and events of each
#       other conversation
# ARGV: P conversation_id now expect_status expect_channel expect_address expect_thread_hint
#       handled_seq has_state state_json new_status|'' priority|'' n_events n_deliveries
#       lease_until fence|'' release|'', n_events event_json, then n_deliveries (delivery_id
#       delivery_json), then any number of (other_conversation_id n event_json × n)
# The last n_deliveries events are the deliveries' message.out events, in order. The first
# delivery is leased to the caller until lease_until when the conversation had nothing
# outstanding; the others wait in its lane.
# With a fence, the conversation's lease lock must still hold that fence (its holder has
# not lost it to expiry and someone else since). With `release` (the holder's "fence
# token"), a commit that leaves nothing pending frees the lock too: the turn runner's last
# commit ends its lease without a round trip of its own.
# The trailing groups are the turn's events for other conversations (a CSAT answer for the
# one that asked), appended in the same script: on this layout every conversation is in
# the slot of `{fd}`. One that no longer exists is passed over (its first seq reads -1).
# → {'ok', first_seq, leased(1/0), released(1/0), other_first_seq …} | {'missing'} |
#   {'conflict'} (the conversation changed) | {'fenced'} (the lease was lost; nothing written)
COMMIT_TURN = (
    _COMMON
    + """
local conv_id = ARGV[2]
local conv_key = KEYS[2]
local now = ARGV[3]
local prior = redis.call('GET', OP)
if prior then
  local out = {'ok'}
  for part in string.gmatch(prior, '%S+') do out[#out + 1] = part end
  return out
end
local lock_key = KEYS[7]
if ARGV[16] ~= '' then
  local holder = redis.call('GET', lock_key) or ''
  if string.sub(holder, 1, #ARGV[16] + 1) ~= ARGV[16] .. ' ' then return {'fenced'} end
end
if redis.call('EXISTS', conv_key) == 0 then return {'missing'} end
local cur = redis.call('HMGET', conv_key, 'status', 'channel', 'address', 'thread_hint',
  'handled_seq', 'inbound_seq', 'customer_id', 'last_seq', 'thread_key')
if cur[1] ~= ARGV[4] or cur[2] ~= ARGV[5] or cur[3] ~= ARGV[6] or cur[4] ~= ARGV[7] then
  return {'conflict'}
end
local status = ARGV[11]
local open_key = P .. 'customer:' .. cur[7] .. ':open'
local thread_open_key = open_key .. ':' .. (cur[9] or '')
if status ~= '' and status ~= cur[1] and (open_key ~= KEYS[10] or thread_open_key ~= KEYS[11]) then
  return {'conflict'}  -- not the customer's keys the caller declared: it reads and retries
end
local n_events = tonumber(ARGV[13])
local n_deliveries = tonumber(ARGV[14])
local first = tonumber(cur[8]) + 1
local last = append(conv_key, now, 18, 17 + n_events)
local base = 18 + n_events
local lane = KEYS[4]
local leased = 0
if n_deliveries > 0 and redis.call('ZCARD', lane) == 0 then leased = 1 end
for i = 0, n_deliveries - 1 do
  local id = ARGV[base + 2 * i]
  local seq = last - n_deliveries + 1 + i
  redis.call('HSET', P .. 'delivery:' .. id, 'data', ARGV[base + 2 * i + 1], 'seq', seq,
    'conv', conv_id, 'next', now)
  redis.call('ZADD', lane, seq, id)
  if i == 0 and leased == 1 then redis.call('ZADD', P .. 'outbox', ARGV[15], id) end
end
local handled = math.max(tonumber(cur[5]), tonumber(ARGV[8]))
redis.call('HSET', conv_key, 'handled_seq', handled)
if ARGV[9] == '1' then redis.call('HSET', conv_key, 'state', ARGV[10]) end
if status ~= '' and status ~= cur[1] then
  redis.call('ZREM', KEYS[8], conv_id)
  redis.call('ZADD', KEYS[9], 0, conv_id)
  redis.call('HSET', conv_key, 'status', status)
  if status == 'resolved' then
    redis.call('ZREM', open_key, conv_id)
    redis.call('ZREM', thread_open_key, conv_id)
  else
    redis.call('ZADD', open_key, 0, conv_id)
    redis.call('ZADD', thread_open_key, 0, conv_id)
  end
end
if ARGV[12] ~= '' then redis.call('HSET', conv_key, 'priority', ARGV[12]) end
local released = 0
if handled >= tonumber(cur[6]) then
  redis.call('ZREM', P .. 'pending', conv_id)
  if ARGV[17] ~= '' and redis.call('GET', lock_key) == ARGV[17] then
    redis.call('DEL', lock_key)
    released = 1
  end
end
local out = {'ok', first, leased, released}
local i = base + 2 * n_deliveries
while i <= #ARGV do
  local other_key = P .. 'conv:' .. ARGV[i]
  local n = tonumber(ARGV[i + 1])
  if redis.call('EXISTS', other_key) == 1 then
    out[#out + 1] = tonumber(redis.call('HGET', other_key, 'last_seq')) + 1
    append(other_key, now, i + 2, i + 1 + n)
  else
    out[#out + 1] = -1
  end
  i = i + 2 + n
end
remember(table.concat(out, ' ', 2))
return out
"""
)

# KEYS: op, then every key the checks and ops name (an APPEND's conversation: its hash and
#       its events)
# ARGV: P now n_checks, then n_checks × (kind key field expected), then ops × (op key a b),
#       where `key` is the key's index in KEYS.
# Checks: GET / HGET (a missing value reads as '') / ZCARD / EXISTS against `expected`.
# Ops: SET DEL HSET HDEL ZADD(score 0) ZREM SADD RPUSH LSET, and APPEND (key = a
# conversation hash, a = event JSON: appended as the next seq).
# → {'ok', the seq of each APPEND, in order} | 'conflict' (a check failed; nothing was
# written); a resent call: 'ok' alone
WRITE_IF = (
    _COMMON
    + """
if redis.call('GET', OP) then return 'ok' end
local now = ARGV[2]
local done = {'ok'}
local i = 4
for _ = 1, tonumber(ARGV[3]) do
  local kind, key, field = ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2]
  local actual
  if kind == 'GET' then actual = redis.call('GET', key) or ''
  elseif kind == 'HGET' then actual = redis.call('HGET', key, field) or ''
  elseif kind == 'ZCARD' then actual = tostring(redis.call('ZCARD', key))
  else actual = tostring(redis.call('EXISTS', key)) end
  if actual ~= ARGV[i + 3] then return 'conflict' end
  i = i + 4
end
while i <= #ARGV do
  local op, key, a, b = ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3]
  if op == 'SET' then redis.call('SET', key, a)
  elseif op == 'DEL' then redis.call('DEL', key)
  elseif op == 'HSET' then redis.call('HSET', key, a, b)
  elseif op == 'HDEL' then redis.call('HDEL', key, a)
  elseif op == 'ZADD' then redis.call('ZADD', key, 0, a)
  elseif op == 'ZREM' then redis.call('ZREM', key, a)
  elseif op == 'SADD' then redis.call('SADD', key, a)
  elseif op == 'RPUSH' then redis.call('RPUSH', key, a)
  elseif op == 'LSET' then redis.call('LSET', key, tonumber(a), b)
  elseif op == 'APPEND' then done[#done + 1] = append(key, now, i + 2, i + 2)
  else return redis.error_reply('WRITE_IF: unknown op ' .. op) end
  i = i + 4
end
remember('ok')
return done
"""
)

# KEYS: op, the customer's challenge
# ARGV: P customer_id now → {data, attempts} after counting one attempt, or false when
# there is no challenge or it expired (then it is deleted).
ATTEMPT_CHALLENGE = """
local key = KEYS[2]
local expires_at = redis.call('HGET', key, 'expires_at')
if not expires_at then return false end
if tonumber(expires_at) <= tonumber(ARGV[3]) then
  redis.call('DEL', key)
  return false
end
local attempts = redis.call('HINCRBY', key, 'attempts', 1)
return {redis.call('HGET', key, 'data'), attempts}
"""

# KEYS: op, conversation hash, its events
# ARGV: P conversation_id now event_json… → first seq, or -1 when the conversation is unknown
APPEND_EVENTS = (
    _COMMON
    + """
local prior = redis.call('GET', OP)
if prior then return tonumber(prior) end
local conv_key = KEYS[2]
if redis.call('EXISTS', conv_key) == 0 then return -1 end
local first = tonumber(redis.call('HGET', conv_key, 'last_seq')) + 1
append(conv_key, ARGV[3], 4, #ARGV)
remember(first)
return first
"""
)

# KEYS: op, outbox, then delivery:{id} of each id in ARGV (read as due by the caller)
# ARGV: P now lease_until id… → flat {data, seq, parts, data, seq, parts …} of those still
# due (another process may have claimed some since). The index holds heads only, so
# whatever is due may go.
CLAIM_DELIVERIES = """
local out = {}
for i = 4, #ARGV do
  local due = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if due and tonumber(due) <= tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[i])
    local d = redis.call('HMGET', KEYS[i - 1], 'data', 'seq', 'parts')
    out[#out + 1] = d[1]
    out[#out + 1] = d[2]
    out[#out + 1] = d[3] or '[]'
  end
end
return out
"""

# KEYS: op, outbox, the conversation's lane, the delivery the caller guesses heads it
# ARGV: P conversation_id now lease_until → {data, seq, parts} of the conversation's head
# when it is due (now leased to the caller), else {}; {'head', id} when the guess was wrong
CLAIM_NEXT = (
    _COMMON
    + """
return claim_head(KEYS[3], KEYS[2], ARGV[3], ARGV[4], KEYS[4])
"""
)

# KEYS: op, the delivery
# ARGV: P delivery_id parts_json → 1, or 0 when the delivery is no longer in the outbox
DELIVERY_PROGRESS = """
local key = KEYS[2]
if redis.call('EXISTS', key) == 0 then return 0 end
redis.call('HSET', key, 'parts', ARGV[3])
return 1
"""

# The receipt, the failure and the redrive of a delivery change its conversation's lane.
# KEYS: op, delivery, outbox, dead, lane, conversation hash, its events, the delivery the
#       caller guesses heads the lane afterwards (checked: `unknown_head`)

# ARGV: P delivery_id conversation_id now event_json lease_until|''
# → {logged, data, seq, parts}: `logged` is the seq of the receipt's event (0 when nothing
# was logged: the delivery was recorded already, or its conversation is gone), followed by
# the conversation's next reply when lease_until is given and it is due (now leased to the
# caller); {'head', id} (nothing written) when the guessed head was wrong
DELIVERY_SUCCEEDED = (
    _COMMON
    + """
if redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
local head = head_after(KEYS[5], ARGV[2], nil)
if unknown_head(head, ARGV[2], KEYS[8], KEYS[3], ARGV[6] ~= '') then return {'head', head} end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('ZREM', KEYS[5], ARGV[2])
promote(KEYS[5], KEYS[3], ARGV[4])
local logged = 0
if redis.call('EXISTS', KEYS[6]) == 1 then logged = append(KEYS[6], ARGV[4], 5, 5) end
if ARGV[6] == '' then return {logged} end
local following = claim_head(KEYS[5], KEYS[3], ARGV[4], ARGV[6], KEYS[8])
if not following[1] or following[1] == 'head' then return {logged} end
return {logged, following[1], following[2], following[3]}
"""
)

# ARGV: P delivery_id conversation_id now delivery_json seq retry(1/0) retry_at event_json
# → the seq of the event logged (0: its conversation is gone; a resent call answers as the
# first did) | {'head', id} (nothing written) when the guessed head was wrong
DELIVERY_FAILED = (
    _COMMON
    + """
local prior = redis.call('GET', OP)
if prior then return tonumber(prior) end
local id = ARGV[2]
local delivery_key, outbox, dead, lane = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if redis.call('EXISTS', delivery_key) == 1 then
  local retry = ARGV[7] == '1'
  local head = head_after(lane, id, retry and ARGV[6] or nil)
  if unknown_head(head, id, KEYS[8], outbox, false) then return {'head', head} end
  redis.call('HSET', delivery_key, 'data', ARGV[5], 'seq', ARGV[6], 'next', ARGV[8])
  redis.call('ZREM', outbox, id)
  if retry then
    redis.call('ZREM', dead, id)
    redis.call('ZADD', lane, ARGV[6], id)
  else
    redis.call('ZREM', lane, id)
    redis.call('ZADD', dead, 0, id)
  end
  -- Back in the index at its retry time if it still heads the lane; a parked head lets
  -- the conversation's next reply go.
  promote(lane, outbox, ARGV[4])
end
local logged = 0
if redis.call('EXISTS', KEYS[6]) == 1 then logged = append(KEYS[6], ARGV[4], 9, 9) end
remember(logged)
return logged
"""
)

# KEYS: op, dead, the delivery
# ARGV: P delivery_id → {data, seq, parts} when parked, else {}
PARKED_DELIVERY = """
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then return {} end
local d = redis.call('HMGET', KEYS[3], 'data', 'seq', 'parts')
return {d[1], d[2], d[3] or '[]'}
"""

# ARGV: P delivery_id conversation_id now expect_data new_data event_json
# → {'ok', seq of the event logged (0: its conversation is gone)} | 'gone' (no longer
# parked) | 'conflict' (changed since it was read) | {'head', id} (nothing written) when
# the guessed head was wrong
REDRIVE = (
    _COMMON
    + """
local prior = redis.call('GET', OP)
if prior then return {'ok', tonumber(prior)} end
local id = ARGV[2]
local delivery_key, outbox, dead, lane = KEYS[2], KEYS[3], KEYS[4], KEYS[5]
if not redis.call('ZSCORE', dead, id) then return 'gone' end
if redis.call('HGET', delivery_key, 'data') ~= ARGV[5] then return 'conflict' end
local seq = redis.call('HGET', delivery_key, 'seq')
local head = head_after(lane, id, seq)
if unknown_head(head, id, KEYS[8], outbox, false) then return {'head', head} end
redis.call('HSET', delivery_key, 'data', ARGV[6], 'next', ARGV[4], 'conv', ARGV[3])
redis.call('ZREM', dead, id)
redis.call('ZADD', lane, seq, id)
promote(lane, outbox, ARGV[4])
local logged = 0
if redis.call('EXISTS', KEYS[6]) == 1 then logged = append(KEYS[6], ARGV[4], 7, 7) end
remember(logged)
return {'ok', logged}
"""
)

# The turn runner's one read: {} or {conversation hash (flat), events after handled_seq
# (at most `limit`), customer JSON or false}. The customer's key is the caller's guess (a
# conversation's customer changes only in a merge): when the conversation names another
# customer, theirs is not read here (false), and the caller reads it.
_CONTEXT = """
local function read_context(P, conv_key, events_key, customer_key, limit)
  local fields = redis.call('HGETALL', conv_key)
  if #fields == 0 then return {} end
  local handled, customer = 0, ''
  for i = 1, #fields, 2 do
    if fields[i] == 'handled_seq' then handled = tonumber(fields[i + 1])
    elseif fields[i] == 'customer_id' then customer = fields[i + 1] end
  end
  local events = redis.call('LRANGE', events_key, handled, handled + tonumber(limit) - 1)
  local found = false
  if P .. 'customer:' .. customer == customer_key then found = redis.call('GET', customer_key) end
  return {fields, events, found}
end
"""

# KEYS: op, conversation hash, its events, its customer (guessed)
# ARGV: P conversation_id limit → the turn context (above)
TURN_CONTEXT = (
    _CONTEXT
    + """
return read_context(ARGV[1], KEYS[2], KEYS[3], KEYS[4], ARGV[3])
"""
)

# KEYS[1] lock key; ARGV[1] token, ARGV[2] ttl in ms → the fence, or 0 (held by another).
LOCK_ACQUIRE = (
    _LEASE
    + """
return take_lease(KEYS[1], ARGV[1], ARGV[2])
"""
)

# A conversation's lease and its turn context in one call (the turn runner's first step, when
# storing the message did not take the lease already: `RECORD_INBOUND`).
# KEYS: op, conversation hash, its events, its customer (guessed), its lock, the lock's fence
# ARGV: P conversation_id token ttl_ms limit → {0} when another holder has the lease, else
# {fence, then the turn context's items (none for an unknown conversation)}.
TURN_LEASE = (
    _LEASE
    + _CONTEXT
    + """
local fence = take_lease(KEYS[5], ARGV[3], ARGV[4])
if fence == 0 then return {0} end
local context = read_context(ARGV[1], KEYS[2], KEYS[3], KEYS[4], ARGV[5])
return {fence, context[1], context[2], context[3]}
"""
)

# KEYS[1] lock key; ARGV[1] the holder's "fence token".
LOCK_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS[1] lock key; ARGV[1] our token, whatever fence it came with.
LOCK_RELEASE_TOKEN = """
local holder = redis.call('GET', KEYS[1])
if not holder then return 0 end
local sep = string.find(holder, ' ', 1, true)
if sep and string.sub(holder, sep + 1) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

LOCK_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
