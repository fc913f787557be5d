"""The queue's two Lua scripts: what must happen atomically on Redis, and nothing more.

``SETTLE`` acknowledges a task, counts it, reports its results, dead-letters what failed and
closes the job when it was the last one, in one step: a worker killed halfway leaves either
nothing done (the task is still pending and will be claimed) or everything. Its ``XACK``
also decides which of two workers that both ran a task (a slow one, and the one that claimed
it) reports it: only the first acknowledgement counts, so results are never doubled.

The broker sends ``SETTLE`` as a bare ``EVALSHA`` pipelined with the ``XREADGROUP`` that
takes the worker's next task, so a busy worker pays one round trip per task.

``TOUCH`` is a worker's heartbeat on its task: it resets the idle time of the entries the
worker still owns (``XCLAIM ... JUSTID`` keeps the delivery count), so a long task is not
claimed from a live worker. It checks ownership first: an entry already claimed by another
worker is left alone.

``WITHDRAW`` takes back the tasks no worker has read yet (a run asked to stop): atomic, so a
task is either withdrawn or read by a worker, which then runs and settles it as usual.
"""

from __future__ import annotations

__all__ = ["SETTLE", "TOUCH", "WITHDRAW"]

SETTLE = """
-- KEYS: tasks, job, results, dead, errors
-- ARGV: group, id, outcome (done|failed|dead|seal), results JSON, now, retention seconds,
--       dead-letter fields JSON (''), error, deliveries, then counter / increment pairs
-- The job's 'results_maxlen' field caps its results stream (0: its reader trims it).
-- Returns 0: the task was not pending (settled by another worker); 1: settled; 2: job done.
local group, id, outcome = ARGV[1], ARGV[2], ARGV[3]
if outcome == 'seal' then
  redis.call('HSET', KEYS[2], 'sealed', '1')
else
  if redis.call('XACK', KEYS[1], group, id) == 0 then return 0 end
  redis.call('XDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[5], id)
  if ARGV[7] ~= '' then
    redis.call('XADD', KEYS[4], '*', 'task', id, 'fields', ARGV[7], 'error', ARGV[8],
               'deliveries', ARGV[9], 'at', ARGV[5])
  end
  redis.call('HINCRBY', KEYS[2], outcome, 1)
  for i = 10, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
  local report = {'task', id, 'outcome', outcome, 'results', ARGV[4]}
  local maxlen = redis.call('HGET', KEYS[2], 'results_maxlen') or '0'
  if maxlen == '0' then
    redis.call('XADD', KEYS[3], '*', unpack(report))
  else
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxlen, '*', unpack(report))
  end
end
local job = redis.call('HMGET', KEYS[2], 'sealed', 'status', 'tasks', 'done', 'failed', 'dead')
local settled = tonumber(job[4] or '0') + tonumber(job[5] or '0') + tonumber(job[6] or '0')
if job[1] ~= '1' or job[2] ~= 'running' or settled < tonumber(job[3] or '0') then return 1 end
local status = 'done'
if redis.call('XLEN', KEYS[4]) > 0 then status = 'failed' end
redis.call('HSET', KEYS[2], 'status', status, 'finished', ARGV[5])
redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)
for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, ARGV[6]) end
return 2
"""

TOUCH = """
-- KEYS[1]: a task stream; ARGV: group, consumer, ids. Returns how many entries were touched.
local touched = 0
for i = 3, #ARGV do
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if entry and entry[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    touched = touched + 1
  end
end
return touched
"""

WITHDRAW = """
-- KEYS: tasks, job; ARGV: group, ids. Deletes the entries not yet delivered to a worker (still
-- in the stream, pending for nobody), uncounts them; returns their ids.
local withdrawn = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if #redis.call('XRANGE', KEYS[1], id, id) > 0
     and #redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1) == 0 then
    redis.call('XDEL', KEYS[1], id)
    withdrawn[#withdrawn + 1] = id
  end
end
if #withdrawn > 0 then redis.call('HINCRBY', KEYS[2], 'tasks', -#withdrawn) end
return withdrawn
"""
