-- wrk script: a storm of password logins, POST /login with a valid session cookie + CSRF token.
--
-- Pforte cycles the session id on every successful login (session fixation defence:
-- src/web/session.rs set_login -> cycle_id, which deletes the old session). A fixed cookie would
-- therefore log in once and then only meet "CSRF expired" pages (no argon2 at all). So every wrk
-- thread (run with -t N -c N: one connection per thread) keeps its own session: it starts from a
-- pre-fetched cookie + CSRF pair and follows the Set-Cookie of each answer. The CSRF token
-- survives the id change (cycle_id keeps the data).
--
-- Env: LOGIN_SESSIONS = file with one "COOKIE_VALUE CSRF" line per thread (made by
--      side-by-side.sh with curl), LOGIN_EMAIL, LOGIN_PASSWORD, COOKIE_NAME (pforte_session).
-- Counts 303 (login succeeded, redirect to /account) as ok; anything else (200 = login page
-- again with an error, 503 = hasher busy) as failed. Prints one JSON line.
local email = os.getenv("LOGIN_EMAIL") or "a@example.de"
local password = os.getenv("LOGIN_PASSWORD") or "correct horse battery staple"
local cname = os.getenv("COOKIE_NAME") or "pforte_session"
local sessions_file = os.getenv("LOGIN_SESSIONS") or "/tmp/pforte-bench/login-sessions.txt"

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local threads = {}
local pairs_list = {}
local next_index = 1

function setup(thread)
  if #pairs_list == 0 then
    for line in io.lines(sessions_file) do
      local c, t = line:match("^(%S+)%s+(%S+)$")
      if c then table.insert(pairs_list, { c, t }) end
    end
  end
  local p = pairs_list[next_index]
  assert(p, "not enough sessions in " .. sessions_file .. " for the number of threads")
  thread:set("cookie", p[1])
  thread:set("csrf", p[2])
  thread:set("id", next_index)
  next_index = next_index + 1
  table.insert(threads, thread)
end

-- per thread state (each thread has its own Lua state)
ok, failed, other = 0, 0, 0

function init(args)
  body = "email=" .. urlencode(email) .. "&password=" .. urlencode(password) ..
         "&csrf=" .. urlencode(csrf) .. "&req="
end

function request()
  return wrk.format("POST", "/login", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cname .. "=" .. cookie,
  }, body)
end

function response(status, headers, body)
  if status == 303 then ok = ok + 1 else failed = failed + 1 end
  local sc = headers["Set-Cookie"] or headers["set-cookie"]
  if sc then
    local v = sc:match(cname .. "=([^;]+)")
    if v then cookie = v end
  end
end

function done(summary, latency, requests)
  local n_ok, n_failed = 0, 0
  for _, t in ipairs(threads) do
    n_ok = n_ok + t:get("ok")
    n_failed = n_failed + t:get("failed")
  end
  local secs = summary.duration / 1e6
  io.write(string.format('{"requests":%d,"logins_ok":%d,"logins_per_s":%.1f,"not_303":%d,"p50_ms":%.1f,"p99_ms":%.1f,"errors_socket":%d}\n',
    summary.requests, n_ok, n_ok / secs, n_failed,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
