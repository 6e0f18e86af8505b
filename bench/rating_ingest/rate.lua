-- Ratings from the public QR page of random windows, each from its own address (as a reverse
-- proxy in front of the server reports it), mostly satisfied. Window ids come from windows.txt.
local windows = {}
for line in io.lines(os.getenv("XN_WINDOWS")) do windows[#windows + 1] = line end
local levels = { "very_satisfied", "very_satisfied", "very_satisfied", "satisfied", "satisfied", "basic" }
math.randomseed(os.time())

request = function()
    local w = windows[math.random(#windows)]
    local ip = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
    local body = string.format('{"level":"%s","comment":"bench"}', levels[math.random(#levels)])
    return wrk.format("POST", "/api/v1/public/rating-pages/w" .. w .. "/ratings",
        { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip }, body)
end

done = function(summary, latency, requests)
    local s = summary
    local non2xx = (s.errors.status or 0)
    local sockets = s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout
    io.write(string.format("RESULT %.1f %.2f %.2f %d %d %d\n",
        s.requests / (s.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        s.requests - non2xx, non2xx, sockets))
end
