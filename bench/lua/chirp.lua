-- wrk driver for Chirp: authenticated users drawn from the generated data set.
-- Usage: wrk ... -s bench/lua/chirp.lua URL -- MODE DATA_DIR [MIN_ID MAX_ID] [pace=MS]
-- MODE: ping | bare | raw | home | deep | post | like | repost | mixed, or one endpoint each:
--       instance | public | profile | followers | following | directory | account
-- pace=MS: each connection waits about MS ms (uniformly 0.5-1.5x) between its requests, to
-- measure latency below saturation; without it, connections send back to back.
local tokens, users, token_users, posts = {}, {}, {}, {}
local mode, min_id, max_id
local counter = 0

local function lines(path, into)
  local file = io.open(path)
  if not file then return end -- a data set from before the file existed
  file:close()
  for line in io.lines(path) do
    if line ~= "" then into[#into + 1] = line end
  end
end

function init(args)
  mode = args[1]
  local dir = args[2]
  lines(dir .. "/tokens.txt", tokens)
  lines(dir .. "/token_users.txt", token_users)
  lines(dir .. "/user_ids.txt", users)
  -- Posts people act on, drawn with a Zipf-like popularity by generate.py (repeats included).
  lines(dir .. "/post_ids.txt", posts)
  local ids = {}
  for i = 3, #args do
    local pace = args[i]:match("^pace=(%d+)$")
    if pace then
      pace = tonumber(pace)
      -- Defined only when pacing: wrk schedules a timer per request once delay() exists.
      delay = function() return math.random(math.floor(pace / 2), math.floor(pace * 3 / 2)) end
    else
      ids[#ids + 1] = tonumber(args[i])
    end
  end
  min_id = ids[1] or 0
  max_id = ids[2] or 0
  -- Each wrk thread has its own Lua state: seed each differently.
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000) + #tostring({}))
end

local function auth(i)
  return { ["Authorization"] = "Bearer " .. tokens[i] }
end

local function home(i)
  return wrk.format("GET", "/api/v1/timelines/home", auth(i))
end

local function deep(i)
  local cursor = string.format("%.0f", min_id + math.random() * (max_id - min_id))
  return wrk.format("GET", "/api/v1/timelines/home?max_id=" .. cursor, auth(i))
end

local function post(i)
  counter = counter + 1
  local headers = auth(i)
  headers["Content-Type"] = "application/x-www-form-urlencoded"
  local body = "status=Benchmark+post+" .. counter .. "+" .. math.random(1000000) .. "+from+wrk"
  return wrk.format("POST", "/api/v1/statuses", headers, body)
end

local function act(i, what)
  local target = posts[math.random(#posts)]
  return wrk.format("POST", "/api/v1/statuses/" .. target .. "/" .. what, auth(i))
end

local function follow(i)
  local target = users[math.random(#users)]
  return wrk.format("POST", "/api/v1/accounts/" .. target .. "/follow", auth(i))
end

-- Endpoints whose cost could grow with the whole database, each read by someone random.
local function endpoint(i)
  local someone = users[math.random(#users)]
  if mode == "instance" then
    return wrk.format("GET", "/api/v1/instance")
  elseif mode == "public" then
    return wrk.format("GET", "/api/v1/timelines/public", auth(i))
  elseif mode == "profile" then
    return wrk.format("GET", "/api/v1/accounts/" .. someone .. "/statuses", auth(i))
  elseif mode == "followers" then
    return wrk.format("GET", "/api/v1/accounts/" .. someone .. "/followers", auth(i))
  elseif mode == "following" then
    return wrk.format("GET", "/api/v1/accounts/" .. someone .. "/following", auth(i))
  elseif mode == "directory" then
    -- Any page a client may ask for: offsets up to the deepest served (10,000).
    local offset = math.random(0, math.min(#users, 10000))
    return wrk.format("GET", "/api/v1/directory?order=active&limit=40&offset=" .. offset, auth(i))
  elseif mode == "account" then
    return wrk.format("GET", "/api/v1/accounts/" .. someone, auth(i))
  end
end

function request()
  local i = math.random(#tokens)
  local one = endpoint(i)
  if one then return one end
  if mode == "ping" then
    return wrk.format("GET", "/_bench/ping")
  elseif mode == "bare" then
    return wrk.format("GET", "/_bench/posts?user=" .. token_users[i])
  elseif mode == "raw" then
    return wrk.format("GET", "/_bench/posts-raw?user=" .. token_users[i])
  elseif mode == "home" then
    return home(i)
  elseif mode == "deep" then
    return deep(i)
  elseif mode == "post" then
    return post(i)
  elseif mode == "like" then
    return act(i, "favourite")
  elseif mode == "repost" then
    return act(i, "reblog")
  else -- mixed: 90% reads (a fifth of them deep), 4% posts, 3% likes, 1% reposts, 2% follows
    local r = math.random(100)
    if r <= 72 then return home(i)
    elseif r <= 90 then return deep(i)
    elseif r <= 94 then return post(i)
    elseif r <= 97 then return act(i, "favourite")
    elseif r <= 98 then return act(i, "reblog")
    else return follow(i) end
  end
end
