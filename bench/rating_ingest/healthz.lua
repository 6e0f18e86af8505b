done = function(summary, latency, requests)
    local s = summary
    io.write(string.format("RESULT %.1f %.2f %.2f %d %d %d\n",
        s.requests / (s.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        s.requests - (s.errors.status or 0), s.errors.status or 0,
        s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout))
end
