-- wrk script: bench/wrk/oidc.lua in MODE=token (client_credentials), but each connection waits
-- DELAY_MS (default 32) between its requests, so the offered load is about
-- connections * 1000 / (DELAY_MS + latency) requests/s instead of "as fast as possible".
-- Used to ask "what is the client_credentials p99 at a realistic rate during a login storm".
-- wrk runs it from bench/side-by-side.sh, whose working folder is bench/.
dofile((os.getenv("BENCH_WRK_DIR") or "wrk") .. "/oidc.lua")
local d = tonumber(os.getenv("DELAY_MS") or "32")
function delay() return d end
