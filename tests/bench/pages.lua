-- wrk script for tests/bench/pages_size.py: one page, signed in, GET or POST.
--
-- Read from the environment (set by the Python side):
--   BENCH_PATH     path to request
--   BENCH_COOKIE   Cookie header of a signed-in session (the CSRF token lives in it)
--   BENCH_CSRF     the token from the last page's form, sent back as csrfmiddlewaretoken
--   BENCH_KIND     "get", "intake" (log a request) or "move" (toggle cases on and off hold)
--   BENCH_MOVES    for "move": a file of lines "reference version stage held_from"
--   BENCH_RECEIVED for "intake": the received_at value to post
-- Prints one JSON line with the counts and percentiles (microseconds) when done.

local path = os.getenv("BENCH_PATH") or "/"
local kind = os.getenv("BENCH_KIND") or "get"
local csrf = os.getenv("BENCH_CSRF") or ""
local received = os.getenv("BENCH_RECEIVED") or ""
local moves = {}
local next_move = 0
local checked = false

wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE") or ""
-- What a browser sends on a same-origin form post under Referrer-Policy: no-referrer.
wrk.headers["Sec-Fetch-Site"] = "same-origin"

function init(args)
   math.randomseed(os.time())
   if kind == "move" then
      for line in io.lines(os.getenv("BENCH_MOVES")) do
         local reference, version, stage, held = line:match("(%S+) (%d+) (%S+) (%S+)")
         moves[#moves + 1] = {reference = reference, version = tonumber(version),
                              stage = stage, held = held}
      end
   end
end

local function form(fields)
   local parts = {}
   for _, pair in ipairs(fields) do
      parts[#parts + 1] = pair[1] .. "=" .. pair[2]
   end
   return table.concat(parts, "&")
end

-- wrk.format replaces the default headers with the ones given: repeat them.
local posted = {["Content-Type"] = "application/x-www-form-urlencoded"}
for name, value in pairs(wrk.headers) do
   posted[name] = value
end

function request()
   if kind == "intake" then
      local contact = string.format("%%2B7+9%02d+%03d-%02d-%02d", math.random(10, 99),
                                    math.random(100, 999), math.random(10, 99),
                                    math.random(10, 99))
      local body = form({{"csrfmiddlewaretoken", csrf}, {"channel", "phone"},
                         {"received_at", received}, {"contact", contact},
                         {"message", "Benchmark+request"}, {"category_guess", ""}})
      return wrk.format("POST", path, posted, body)
   elseif kind == "move" and not checked then
      -- wrk calls request() once to check it and never sends that one: move nothing.
      checked = true
      return wrk.format("POST", "/cases/" .. moves[1].reference .. "/move/", posted, "")
   elseif kind == "move" then
      -- Each case goes on hold and back, one version further each time; the list is long
      -- enough that two connections never hold the same case at once.
      next_move = next_move % #moves + 1
      local case = moves[next_move]
      local target = case.stage == "on_hold" and case.held or "on_hold"
      local body = form({{"csrfmiddlewaretoken", csrf}, {"version", case.version},
                         {"to_stage", target}, {"reason", "Benchmark"}, {"outcome", ""}})
      if target == "on_hold" then
         case.held = case.stage
      end
      case.stage = target
      case.version = case.version + 1
      return wrk.format("POST", "/cases/" .. case.reference .. "/move/", posted, body)
   end
   return wrk.format("GET", path)
end

if os.getenv("BENCH_DEBUG") then
   function response(status, headers, body)
      if status >= 400 then
         io.stderr:write(status .. " " .. body:gsub("%s+", " "):sub(1, 60000) .. "\n")
      end
   end
end

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
      '"p50": %d, "p95": %d, "p99": %d, "max": %d}\n',
      summary.requests, summary.duration, errors.status,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
