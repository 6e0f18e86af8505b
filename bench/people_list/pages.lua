-- wrk script for the people_list bench:
--   wrk -t2 -c32 -d20s --latency -s pages.lua http://127.0.0.1:PORT -- <xn_session cookie> <paths file>
--
-- The paths file (written by run.sh) holds one request path per line: the roster's pages 1..500
-- (page_size=20) interleaved with some filtered queries. Every thread walks the whole list from
-- its own starting offset, so the threads do not hit the same page at the same time.
-- Requests are formatted once in init(); request() only picks the next one.

local thread_count = 0

function setup(thread)
   thread:set("id", thread_count)
   thread_count = thread_count + 1
end

local requests = {}
local next_index = 1

function init(args)
   local cookie = args[1]
   local file = args[2]
   if cookie == nil or file == nil then
      error("usage: wrk ... -s pages.lua URL -- <xn_session cookie> <paths file>")
   end
   local headers = {
      ["Cookie"] = "xn_session=" .. cookie,
      ["Accept"] = "application/json",
   }
   for line in io.lines(file) do
      if line ~= "" then
         requests[#requests + 1] = wrk.format("GET", line, headers)
      end
   end
   if #requests == 0 then
      error("no request paths in " .. file)
   end
   -- id is set by setup(); spread the threads over the list.
   local tid = tonumber(id) or 0
   next_index = (tid * 97) % #requests + 1
end

function request()
   local r = requests[next_index]
   next_index = next_index % #requests + 1
   return r
end

function done(summary, latency, requests_stats)
   local secs = summary.duration / 1e6
   local e = summary.errors
   io.write(string.format(
      "WRK_RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
      "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000,
      e.connect, e.read, e.write, e.status, e.timeout))
end
