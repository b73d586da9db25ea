-- wrk script: the shared client-credentials.lua (BENCH_DIR, default /tmp/bench), but each
-- connection waits DELAY_MS (default 32) between its requests, so the offered load is about
-- connections * 1000 / (DELAY_MS + latency) requests/s instead of "as fast as possible".
-- Used to ask "what is the client_credentials p99 at a realistic rate during a login storm".
dofile((os.getenv("BENCH_DIR") or "/tmp/bench") .. "/client-credentials.lua")
local d = tonumber(os.getenv("DELAY_MS") or "32")
function delay() return d end
