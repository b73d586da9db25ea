-- wrk script for bench/load.sh: one script for every mode, chosen by the environment.
--   MODE=token       POST client_credentials (RFC 6749 §4.4) with client_secret_basic
--   MODE=introspect  POST introspection (RFC 7662) of TOKEN with client_secret_basic
--   MODE=get         plain GET (the JWKS)
-- CLIENT_ID / CLIENT_SECRET (default rp / rp-secret), SCOPE (optional), TOKEN (introspect).
-- Prints one JSON line when done: requests, rps, p50_ms, p99_ms, errors_socket, non_2xx.
local mode = os.getenv("MODE") or "get"
local id = os.getenv("CLIENT_ID") or "rp"
local secret = os.getenv("CLIENT_SECRET") or "rp-secret"

-- RFC 4648 base64 (wrk's LuaJIT has no library for it).
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for k = 1, 4 do
      if k <= chars then
        local v = math.floor(n / 2 ^ (6 * (4 - k))) % 64
        out[#out + 1] = alphabet:sub(v + 1, v + 1)
      else
        out[#out + 1] = "="
      end
    end
  end
  return table.concat(out)
end

-- application/x-www-form-urlencoded value (RFC 6749 §2.3.1 also asks this of the Basic parts).
local function form(s)
  return (s:gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

if mode == "token" or mode == "introspect" then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Authorization"] = "Basic " .. base64(form(id) .. ":" .. form(secret))
  if mode == "token" then
    local scope = os.getenv("SCOPE")
    wrk.body = "grant_type=client_credentials" .. (scope and ("&scope=" .. form(scope)) or "")
  else
    wrk.body = "token=" .. form(assert(os.getenv("TOKEN"), "TOKEN is required"))
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"rps":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"errors_socket":%d,"non_2xx":%d}\n',
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
