-- wrk script of tests/benchmarks/load.py: one request kind per run, chosen by the first argument.
--
--   wrk ... -s tests/benchmarks/wrk.lua URL -- MODE DATAFILE ROUND THREADS
--
-- MODE     healthz | create | list | preview
-- DATAFILE lines of tab-separated fields written by load.py's seed step:
--            create, list: PROJECT_ID <tab> TOKEN           (one tenant per line)
--            preview:      PATH <tab> COOKIE <tab> CSRF <tab> BODY
-- ROUND    a word in the names of created policies, so that a warm-up and a measured run of
--          create never send the same name to one tenant
-- THREADS  wrk's -t, so that each thread takes its own share of the sequence numbers
--
-- A create goes to tenant (sequence mod tenants): with enough tenants none reaches its quota of
-- ten policies, so every create is a real one (answered 200, checked by load.py).

local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local mode, entries, round, step, sequence

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do
    fields[#fields + 1] = field
  end
  return fields
end

function init(args)
  mode = args[1]
  round = args[3] or "r"
  step = tonumber(args[4]) or 1
  sequence = thread_id or 0
  entries = {}
  if args[2] and args[2] ~= "-" then
    for line in io.lines(args[2]) do
      if #line > 0 then
        entries[#entries + 1] = split(line)
      end
    end
  end
end

-- The same body as CREATE_BODY in load.py.
local create_body = '{"backup_policy_name": "bench_%s_%d", "scheduled_policy": {"start_time": "22:00,00:00,02:00",'
  .. ' "week_frequency": ["MON", "THU"], "rentention_num": 7, "status": "ON"}, "time_zone": "UTC+02:00",'
  .. ' "tags": [{"key": "env", "value": "bench"}]}'

function request()
  local current = sequence
  sequence = sequence + step
  if mode == "healthz" then
    return wrk.format("GET", "/healthz")
  end
  if mode == "preview" then
    local entry = entries[1]
    return wrk.format("POST", entry[1], {
      ["Cookie"] = entry[2],
      ["X-CSRFToken"] = entry[3],
      ["HX-Request"] = "true",
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, entry[4])
  end
  local entry = entries[(current % #entries) + 1]
  local path = "/v2/" .. entry[1] .. "/backuppolicy"
  if mode == "list" then
    return wrk.format("GET", path, { ["X-Auth-Token"] = entry[2], ["Accept"] = "application/json" })
  end
  return wrk.format("POST", path, {
    ["X-Auth-Token"] = entry[2],
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
  }, string.format(create_body, round, current))
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "status_errors": %d, '
      .. '"socket_errors": %d}\n',
    summary.requests,
    summary.duration,
    latency:percentile(50),
    latency:percentile(99),
    errors.status,
    errors.connect + errors.read + errors.write + errors.timeout
  ))
end
